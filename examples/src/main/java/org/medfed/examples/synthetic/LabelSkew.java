package org.medfed.examples.synthetic;

import java.util.Random;

/**
 * Non-IID label skew across hospitals: for each class, the share each hospital holds is drawn from
 * a symmetric Dirichlet(alpha), the usual benchmark partition (Hsu et al. 2019, arXiv 1909.06335).
 * Small alpha means each hospital sees mostly a few classes.
 */
public final class LabelSkew {
  private LabelSkew() {}

  /**
   * @return counts[h][c]: samples of class c at hospital h; every class totals {@code perClass}
   */
  public static int[][] counts(int hospitals, int classes, int perClass, double alpha, Random random) {
    int[][] counts = new int[hospitals][classes];
    for (int c = 0; c < classes; c++) {
      double[] share = dirichlet(hospitals, alpha, random);
      int assigned = 0;
      for (int h = 0; h < hospitals; h++) {
        counts[h][c] = (int) Math.floor(share[h] * perClass);
        assigned += counts[h][c];
      }
      // Hand out the rounding remainder one by one to the largest shares.
      for (int left = perClass - assigned; left > 0; left--) {
        int best = 0;
        for (int h = 1; h < hospitals; h++) {
          if (share[h] * perClass - counts[h][c] > share[best] * perClass - counts[best][c]) {
            best = h;
          }
        }
        counts[best][c]++;
      }
    }
    return counts;
  }

  /**
   * Label skew with equal quantity: every hospital holds {@code perHospital} samples, its class mix
   * drawn from a symmetric Dirichlet(alpha). With few hospitals, {@link #counts} can leave one of
   * them holding most of the data, and a model trained there alone is then as good as any; here
   * each hospital is as large as the others and lacks what the others have.
   *
   * @return counts[h][c]: samples of class c at hospital h; every hospital totals {@code perHospital}
   */
  public static int[][] mixes(int hospitals, int classes, int perHospital, double alpha, Random random) {
    int[][] counts = new int[hospitals][];
    for (int h = 0; h < hospitals; h++) {
      // One hospital's mix is one column of counts() with the roles of class and hospital swapped.
      int[][] column = counts(classes, 1, perHospital, alpha, random);
      counts[h] = new int[classes];
      for (int c = 0; c < classes; c++) {
        counts[h][c] = column[c][0];
      }
    }
    return counts;
  }

  static double[] dirichlet(int k, double alpha, Random random) {
    double[] draws = new double[k];
    double sum = 0;
    for (int i = 0; i < k; i++) {
      draws[i] = gamma(alpha, random);
      sum += draws[i];
    }
    for (int i = 0; i < k; i++) {
      draws[i] /= sum;
    }
    return draws;
  }

  /** Gamma(shape, 1) by Marsaglia and Tsang (2000), with the shape < 1 boost. */
  static double gamma(double shape, Random random) {
    if (shape < 1) {
      return gamma(shape + 1, random) * Math.pow(random.nextDouble(), 1 / shape);
    }
    double d = shape - 1.0 / 3;
    double c = 1 / Math.sqrt(9 * d);
    while (true) {
      double x = random.nextGaussian();
      double v = Math.pow(1 + c * x, 3);
      if (v <= 0) {
        continue;
      }
      double u = random.nextDouble();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
        return d * v;
      }
    }
  }
}
