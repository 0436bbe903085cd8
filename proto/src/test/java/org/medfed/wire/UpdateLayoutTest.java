package org.medfed.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.medfed.proto.v1.TrainingPlan;

class UpdateLayoutTest {

  @Test
  void scaffoldPlan_laysOutWeightDeltaControlDeltaAndLoss() {
    UpdateLayout layout = UpdateLayout.of(TrainingPlan.newBuilder().setParameterCount(3)
        .addExtraVectors(UpdateLayout.CONTROL_DELTA).build());

    assertEquals(List.of("delta", "control_delta"), layout.vectors());
    assertEquals(6, layout.plainLength());
    assertEquals(8, layout.maskedLength());
    assertEquals(0, layout.maskedWeightIndex());
    assertEquals(1, layout.maskedOffset("delta"));
    assertEquals(4, layout.maskedOffset("control_delta"));
    assertEquals(7, layout.maskedLossIndex());
  }

  @Test
  void planWithoutExtraVectors_isTheOldLayout_parameterCountPlusTwo() {
    UpdateLayout layout = UpdateLayout.of(TrainingPlan.newBuilder().setParameterCount(5).build());

    assertEquals(7, layout.maskedLength());
    assertEquals(5, layout.plainLength());
  }

  @Test
  void join_thenSplit_givesTheVectorsBack() {
    UpdateLayout layout = new UpdateLayout(2, List.of("delta", "control_delta"));

    float[] plain = layout.join(Map.of("control_delta", new float[] {3, 4}, "delta", new float[] {1, 2}));

    assertArrayEquals(new float[] {1, 2, 3, 4}, plain);
    assertArrayEquals(new float[] {3, 4}, layout.split(plain).get("control_delta"));
  }

  @Test
  void split_ofAnUploadOfTheWrongLength_isRefusedWithBothLengths() {
    UpdateLayout layout = new UpdateLayout(2, List.of("delta", "control_delta"));

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> layout.split(new float[3]));

    assertTrue(e.getMessage().contains("has 4 values, got 3"), e.getMessage());
  }
}
