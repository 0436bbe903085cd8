package org.medfed.nodeagent.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TrainingPlanTest {
  private static TrainingPlan withMu(double mu) {
    return new TrainingPlan("{}", 6, new long[] {2}, 2, 1, 10, 0.05, 3, mu, 0);
  }

  @Test
  void proximalMu_negativeNanOrInfinite_isRefusedWithTheValue() {
    for (double mu : new double[] {-0.1, Double.NaN, Double.POSITIVE_INFINITY}) {
      var e = assertThrows(IllegalArgumentException.class, () -> withMu(mu));
      assertEquals("proximalMu (FedProx's mu) must be finite and >= 0, got " + mu + "; use 0 for no proximal term",
          e.getMessage());
    }
  }

  @Test
  void withLocalEpochs_keepsProximalMu() {
    assertEquals(0.25, withMu(0.25).withLocalEpochs(3).proximalMu());
  }

  @Test
  void thePlainConstructor_trainsWithoutAProximalTerm() {
    assertEquals(0, new TrainingPlan("{}", 6, new long[] {2}, 2, 1, 10, 0.05, 3).proximalMu());
  }
}
