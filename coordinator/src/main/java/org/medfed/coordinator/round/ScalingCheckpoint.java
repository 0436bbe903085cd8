package org.medfed.coordinator.round;

import java.util.Optional;
import java.util.SortedMap;
import org.medfed.coordinator.strategy.StrategyState;
import org.medfed.wire.FeatureStatistics;

/**
 * The consortium's feature scaling travels in each checkpoint beside the strategy's state, under
 * names no strategy uses, so that it is covered by the checkpoint's digest and a resumed job scales
 * as before instead of measuring again (the hospitals may have changed since).
 */
public final class ScalingCheckpoint {
  static final String MEAN = "feature_scaling.mean";
  static final String SCALE = "feature_scaling.scale";

  private ScalingCheckpoint() {}

  /** A checkpoint split back into the strategy's state and the job's scaling. */
  public record Restored(StrategyState strategy, Optional<FeatureStatistics.Scaling> scaling) {}

  static StrategyState merge(StrategyState strategy, Optional<FeatureStatistics.Scaling> scaling) {
    if (scaling.isEmpty()) {
      return strategy;
    }
    SortedMap<String, double[]> arrays = strategy.arrays();
    if (arrays.containsKey(MEAN) || arrays.containsKey(SCALE)) {
      throw new IllegalStateException("the strategy's state uses the names " + MEAN + " or " + SCALE);
    }
    arrays.put(MEAN, doubles(scaling.get().mean()));
    arrays.put(SCALE, doubles(scaling.get().scale()));
    return new StrategyState(arrays);
  }

  public static Restored split(StrategyState checkpointed) {
    SortedMap<String, double[]> arrays = checkpointed.arrays();
    double[] mean = arrays.remove(MEAN);
    double[] scale = arrays.remove(SCALE);
    if ((mean == null) != (scale == null)) {
      throw new IllegalArgumentException("the checkpoint holds only one of " + MEAN + " and " + SCALE);
    }
    Optional<FeatureStatistics.Scaling> scaling = mean == null ? Optional.empty()
        : Optional.of(new FeatureStatistics.Scaling(floats(mean), floats(scale)));
    return new Restored(new StrategyState(arrays), scaling);
  }

  private static double[] doubles(float[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  private static float[] floats(double[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }
}
