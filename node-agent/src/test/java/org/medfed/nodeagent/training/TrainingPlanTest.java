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

  @Test
  void forRound_offsetsTheSeedByTheRoundTimesTheStride() {
    // 3 + 2 * 0x9E3779B97F4A7C15, modulo 2^64.
    assertEquals(0x3C6EF372FE94F82DL, withMu(0).forRound(2).seed());
    assertEquals(3 + 0x9E3779B97F4A7C15L, withMu(0).forRound(1).seed());
    assertEquals(0.25, withMu(0.25).forRound(5).proximalMu());
  }

  @Test
  void forRound_beforeTheFirstRound_isRefusedWithTheValue() {
    var e = assertThrows(IllegalArgumentException.class, () -> withMu(0).forRound(0));
    assertEquals("rounds count from 1, got 0", e.getMessage());
  }
}
