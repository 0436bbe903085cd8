package org.medfed.privacy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SampledGaussianTest {
  private static final double[] ORDERS = RdpCurve.DEFAULT_ORDERS;

  @Test
  void opacusMnistExample_basicAndImprovedConversions() {
    // Opacus' MNIST example: q = 0.004, sigma = 1.3, 3750 steps, delta = 1e-5 (both at order 17).
    PrivacySpent spent = SampledGaussian.steps(0.004, 1.3, 3750, ORDERS).epsilon(1e-5);
    assertEquals(1.16, spent.epsilonBasic(), 0.01);
    assertEquals(0.92, spent.epsilon(), 0.01);
  }

  @Test
  void withoutSampling_itIsTheGaussianMechanism_alphaOver2SigmaSquaredPerStep() {
    RdpCurve curve = SampledGaussian.steps(1, 2.0, 5, new double[] {1.5, 2, 8});
    assertArrayEquals(new double[] {5 * 1.5 / 8, 5 * 2.0 / 8, 5 * 8.0 / 8}, curve.epsilons(), 1e-12);
  }

  @Test
  void integerAndFractionalOrdersAgreeWhereTheyMeet() {
    // The fractional series at an order next to an integer lands next to the exact binomial sum.
    double atTwo = SampledGaussian.rdp(0.01, 1.0, 2);
    double nearTwo = SampledGaussian.rdp(0.01, 1.0, 2.000001);
    assertEquals(atTwo, nearTwo, 1e-6 * atTwo + 1e-12);
    // At order 2 the binomial sum has a closed form: log(1 + q^2 (e^(1/sigma^2) - 1)).
    assertEquals(Math.log1p(0.01 * 0.01 * (Math.exp(1) - 1)), atTwo, 1e-12);
  }

  @Test
  void compositionAddsPerOrder_andMoreNoiseSpendsLess() {
    RdpCurve once = SampledGaussian.steps(0.02, 1.1, 100, ORDERS);
    assertArrayEquals(SampledGaussian.steps(0.02, 1.1, 200, ORDERS).epsilons(), once.plus(once).epsilons(), 1e-9);
    assertTrue(SampledGaussian.steps(0.02, 2.0, 100, ORDERS).epsilon(1e-5).epsilon() < once.epsilon(1e-5).epsilon());
    RdpCurve never = SampledGaussian.steps(0, 1.0, 100, ORDERS);
    assertArrayEquals(new double[ORDERS.length], never.epsilons(), "a record never sampled spends nothing");
    assertEquals(0, never.epsilon(1e-5).epsilon(), "and converts to epsilon 0, not the conversion's floor");
  }

  @Test
  void calibrationFindsTheNoiseThatSpendsTheTarget() {
    double sigma = NoiseCalibration.noiseMultiplier(0.92, 1e-5, 0.004, 3750, ORDERS);
    assertEquals(1.3, sigma, 0.02);
    assertTrue(SampledGaussian.steps(0.004, sigma, 3750, ORDERS).epsilon(1e-5).epsilon() <= 0.92);
    // The client-level figures: 15 rounds, every hospital in each round (q = 1), delta 1e-5.
    assertEquals(2.5, NoiseCalibration.noiseMultiplier(8, 1e-5, 1, 15, ORDERS), 0.1);
  }

  @Test
  void refusesWhatIsNotAMechanism() {
    assertThrows(IllegalArgumentException.class, () -> SampledGaussian.step(1.5, 1, ORDERS));
    assertThrows(IllegalArgumentException.class, () -> SampledGaussian.step(0.1, 0, ORDERS));
    assertThrows(IllegalArgumentException.class, () -> SampledGaussian.step(0.1, 1, ORDERS).epsilon(0));
  }
}
