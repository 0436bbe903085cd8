package org.medfed.privacy;

import org.apache.commons.math3.special.Erf;

/**
 * Rényi DP of the sampled Gaussian mechanism (Mironov, Talwar and Zhang 2019, arXiv 1908.10530): each
 * record joins a step's batch independently with probability q (Poisson sampling), the batch's sum
 * of gradients clipped to norm C gets Gaussian noise of standard deviation σ·C. Integer orders use the
 * exact binomial expansion (their Section 3.3); fractional orders the two-sided series of Section
 * 3.4, summed in log space until its terms fall below e^-30.
 */
public final class SampledGaussian {
  private SampledGaussian() {}

  /** The RDP curve of one step at the given orders. */
  public static RdpCurve step(double sampleRate, double noiseMultiplier, double[] orders) {
    if (!(sampleRate >= 0 && sampleRate <= 1)) {
      throw new IllegalArgumentException("the sample rate q must be in [0, 1], got " + sampleRate);
    }
    if (!(noiseMultiplier > 0) || Double.isInfinite(noiseMultiplier)) {
      throw new IllegalArgumentException("the noise multiplier must be a finite number > 0, got " + noiseMultiplier);
    }
    double[] epsilons = new double[orders.length];
    for (int i = 0; i < orders.length; i++) {
      epsilons[i] = rdp(sampleRate, noiseMultiplier, orders[i]);
    }
    return new RdpCurve(orders, epsilons);
  }

  /** {@code steps} steps, composed. */
  public static RdpCurve steps(double sampleRate, double noiseMultiplier, long steps, double[] orders) {
    return step(sampleRate, noiseMultiplier, orders).times(steps);
  }

  static double rdp(double q, double sigma, double alpha) {
    if (q == 0) {
      return 0;
    }
    if (q == 1) {
      // No sampling: the Gaussian mechanism of sensitivity 1 and scale sigma.
      return alpha / (2 * sigma * sigma);
    }
    double logA = alpha == Math.rint(alpha) ? logAInteger(q, sigma, (int) alpha) : logAFractional(q, sigma, alpha);
    return Math.max(0, logA / (alpha - 1));
  }

  private static double logAInteger(double q, double sigma, int alpha) {
    double logA = Double.NEGATIVE_INFINITY;
    for (int i = 0; i <= alpha; i++) {
      double logCoefficient = logBinomial(alpha, i) + i * Math.log(q) + (alpha - i) * Math.log1p(-q);
      logA = logAdd(logA, logCoefficient + (i * (double) i - i) / (2 * sigma * sigma));
    }
    return logA;
  }

  private static double logAFractional(double q, double sigma, double alpha) {
    double logA0 = Double.NEGATIVE_INFINITY;
    double logA1 = Double.NEGATIVE_INFINITY;
    double z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
    // binom(alpha, i) by its product, kept as log-magnitude and sign: it turns negative past alpha.
    double logAbsCoefficient = 0;
    boolean positive = true;
    for (int i = 0; ; i++) {
      if (i > 0) {
        double factor = (alpha - (i - 1)) / i;
        logAbsCoefficient += Math.log(Math.abs(factor));
        positive ^= factor < 0;
      }
      double j = alpha - i;
      double logT0 = logAbsCoefficient + i * Math.log(q) + j * Math.log1p(-q);
      double logT1 = logAbsCoefficient + j * Math.log(q) + i * Math.log1p(-q);
      double logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.sqrt(2) * sigma));
      double logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.sqrt(2) * sigma));
      double logS0 = logT0 + (i * (double) i - i) / (2 * sigma * sigma) + logE0;
      double logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
      if (positive) {
        logA0 = logAdd(logA0, logS0);
        logA1 = logAdd(logA1, logS1);
      } else {
        logA0 = logSub(logA0, logS0);
        logA1 = logSub(logA1, logS1);
      }
      if (Math.max(logS0, logS1) < -30) {
        return logAdd(logA0, logA1);
      }
      if (i > 100_000) {
        throw new ArithmeticException("the RDP series at order " + alpha + " did not converge (q " + q + ", sigma "
            + sigma + ")");
      }
    }
  }

  /** log(erfc(x)), also where erfc(x) underflows (x above about 26): then its asymptotic series. */
  static double logErfc(double x) {
    double r = Erf.erfc(x);
    if (r > 0) {
      return Math.log(r);
    }
    return -Math.log(Math.PI) / 2 - Math.log(x) - x * x - 0.5 * Math.pow(x, -2) + 0.625 * Math.pow(x, -4)
        - 37.0 / 24.0 * Math.pow(x, -6) + 353.0 / 64.0 * Math.pow(x, -8);
  }

  private static double logBinomial(int n, int k) {
    double sum = 0;
    for (int i = 1; i <= k; i++) {
      sum += Math.log(n - k + i) - Math.log(i);
    }
    return sum;
  }

  private static double logAdd(double logX, double logY) {
    double a = Math.min(logX, logY);
    double b = Math.max(logX, logY);
    if (a == Double.NEGATIVE_INFINITY) {
      return b;
    }
    return Math.log1p(Math.exp(a - b)) + b;
  }

  /** log(x − y) for x ≥ y; −∞ when they are equal. */
  private static double logSub(double logX, double logY) {
    if (logX < logY) {
      throw new ArithmeticException("the RDP series went negative: log " + logX + " minus log " + logY);
    }
    if (logY == Double.NEGATIVE_INFINITY) {
      return logX;
    }
    if (logX == logY) {
      return Double.NEGATIVE_INFINITY;
    }
    return Math.log(Math.expm1(logX - logY)) + logY;
  }
}
