package org.medfed.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

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
}
