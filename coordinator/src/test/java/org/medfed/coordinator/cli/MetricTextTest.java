package org.medfed.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.medfed.proto.v1.HospitalMetrics;
import org.medfed.proto.v1.RoundRecord;

class MetricTextTest {

  @Test
  void countsFromASecureSumPrintAsIntegers_andNoValuePrintsAsNegativeZero() {
    assertEquals("eval_accuracy=0.9132 train_loss=0.0000 train_samples=1437",
        MetricText.of(Map.of("train_samples", 1437.0002, "train_loss", -0.0000004, "eval_accuracy", 0.91321)));
    assertEquals("eval_nodes=3 eval_samples=120", MetricText.of(Map.of("eval_samples", 119.9996, "eval_nodes", 3.0)));
  }

  @Test
  void realNegativesWholeNumbersAndNonFiniteValuesKeepTheirMeaning() {
    assertEquals("-0.0125", MetricText.value("train_loss", -0.0125));
    assertEquals("2", MetricText.value("train_loss", 2.0));
    assertEquals("0", MetricText.value("train_loss", -0.0));
    assertEquals("NaN", MetricText.value("eval_loss", Double.NaN));
  }

  @Test
  void eachHospitalGetsALine_inNameOrder_soASiteTheModelFailsStandsOut() {
    RoundRecord round = RoundRecord.newBuilder().setRound(3)
        .putEvaluations("hospital-b", HospitalMetrics.newBuilder().putMetrics("accuracy", 0.41).putMetrics("samples", 40)
            .build())
        .putEvaluations("a", HospitalMetrics.newBuilder().putMetrics("accuracy", 0.93).putMetrics("samples", 52).build())
        .build();
    assertEquals(List.of("a           accuracy=0.9300 samples=52", "hospital-b  accuracy=0.4100 samples=40"),
        MetricText.byHospital(round));
  }
}
