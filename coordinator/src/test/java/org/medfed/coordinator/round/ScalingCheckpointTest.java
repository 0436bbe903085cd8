package org.medfed.coordinator.round;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.medfed.coordinator.strategy.StrategyState;
import org.medfed.wire.FeatureStatistics;

class ScalingCheckpointTest {
  private static final StrategyState MOMENTS = StrategyState.of(Map.of("m", new double[] {0.5}, "v", new double[] {2}));

  @Test
  void scaling_travelsBesideTheStrategyState_andComesBackApart() {
    FeatureStatistics.Scaling scaling = new FeatureStatistics.Scaling(new float[] {140.5f, -0.25f},
        new float[] {3.75f, 1e-3f});

    StrategyState merged = ScalingCheckpoint.merge(MOMENTS, Optional.of(scaling));
    ScalingCheckpoint.Restored restored = ScalingCheckpoint.split(merged);

    assertEquals(MOMENTS, restored.strategy());
    assertEquals(scaling, restored.scaling().orElseThrow());
    assertArrayEquals(new double[] {140.5, -0.25}, merged.get(ScalingCheckpoint.MEAN));
  }

  @Test
  void withoutScaling_theCheckpointHoldsTheStrategyStateAlone() {
    assertSame(MOMENTS, ScalingCheckpoint.merge(MOMENTS, Optional.empty()));
    assertEquals(Optional.empty(), ScalingCheckpoint.split(MOMENTS).scaling());
  }

  @Test
  void halfAScaling_isRefused() {
    StrategyState broken = StrategyState.of(Map.of(ScalingCheckpoint.MEAN, new double[] {1}));
    assertThrows(IllegalArgumentException.class, () -> ScalingCheckpoint.split(broken));
  }
}
