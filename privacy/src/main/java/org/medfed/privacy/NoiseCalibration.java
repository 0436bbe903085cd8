package org.medfed.privacy;

/** The smallest noise multiplier that keeps a run of the sampled Gaussian mechanism within a target ε. */
public final class NoiseCalibration {
  private NoiseCalibration() {}

  /**
   * @return σ such that {@code steps} steps at sample rate q spend at most {@code targetEpsilon} at
   *     {@code delta} (improved conversion), found by bisection to a relative precision of 1e-4
   * @throws IllegalArgumentException when even σ = 10^4 cannot reach the target
   */
  public static double noiseMultiplier(double targetEpsilon, double delta, double sampleRate, long steps,
      double[] orders) {
    if (!(targetEpsilon > 0) || Double.isInfinite(targetEpsilon)) {
      throw new IllegalArgumentException("the target epsilon must be a finite number > 0, got " + targetEpsilon);
    }
    double low = 1e-3;
    double high = 1;
    while (spent(high, delta, sampleRate, steps, orders) > targetEpsilon) {
      low = high;
      high *= 2;
      if (high > 1e4) {
        throw new IllegalArgumentException("no noise multiplier up to 10000 keeps " + steps + " steps at sample rate "
            + sampleRate + " within epsilon " + targetEpsilon + " at delta " + delta);
      }
    }
    while ((high - low) / high > 1e-4) {
      double middle = (low + high) / 2;
      if (spent(middle, delta, sampleRate, steps, orders) > targetEpsilon) {
        low = middle;
      } else {
        high = middle;
      }
    }
    return high;
  }

  private static double spent(double sigma, double delta, double q, long steps, double[] orders) {
    return SampledGaussian.steps(q, sigma, steps, orders).epsilon(delta).epsilon();
  }
}
