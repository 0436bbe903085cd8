package org.medfed.coordinator.strategy;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The arithmetic of the robust rules, as pure functions over each hospital's delta: coordinate-wise
 * order statistics (Yin et al. 2018, arXiv 1803.01498) and Krum scores (Blanchard et al. 2017,
 * "Machine Learning with Adversaries: Byzantine Tolerant Gradient Descent", NeurIPS). Unweighted by
 * samples, as in the papers and Flower, except Multi-Krum's final mean: a hospital cannot buy
 * influence over the median by claiming more samples.
 */
final class RobustAggregation {
  private RobustAggregation() {}

  /** Per coordinate, the median of the deltas (the mean of the two middle ones for an even count). */
  static double[] median(List<ClientUpdate> updates) {
    return coordinateWise(updates, sorted -> {
      int n = sorted.length;
      return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    });
  }

  /** Per coordinate, the mean of the deltas after dropping the {@code trimmed} smallest and largest. */
  static double[] trimmedMean(List<ClientUpdate> updates, int trimmed) {
    if (2 * trimmed >= updates.size()) {
      throw new IllegalArgumentException("cannot trim " + trimmed + " from each end of " + updates.size() + " updates");
    }
    return coordinateWise(updates, sorted -> {
      double sum = 0;
      for (int k = trimmed; k < sorted.length - trimmed; k++) {
        sum += sorted[k];
      }
      return sum / (sorted.length - 2 * trimmed);
    });
  }

  /**
   * Krum scores: for each update, the sum of squared distances to its {@code n − f − 2} nearest
   * other updates. An honest update sits among the honest majority and scores low.
   */
  static double[] krumScores(List<ClientUpdate> updates, int byzantine) {
    int n = updates.size();
    int nearest = n - byzantine - 2;
    if (nearest < 1) {
      throw new IllegalArgumentException("Krum needs n > 2f + 2, got n=" + n + ", f=" + byzantine);
    }
    double[][] distance = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        double sum = 0;
        for (int k = 0; k < updates.get(i).length(); k++) {
          double d = (double) updates.get(i).deltaAt(k) - updates.get(j).deltaAt(k);
          sum += d * d;
        }
        distance[i][j] = sum;
        distance[j][i] = sum;
      }
    }
    double[] scores = new double[n];
    for (int i = 0; i < n; i++) {
      int self = i;
      scores[i] = IntStream.range(0, n).filter(j -> j != self).mapToDouble(j -> distance[self][j]).sorted()
          .limit(nearest).sum();
    }
    return scores;
  }

  /** The indices of the {@code count} lowest scores, lowest first; ties go to the earlier update. */
  static List<Integer> lowest(double[] scores, int count) {
    return IntStream.range(0, scores.length).boxed()
        .sorted(Comparator.<Integer>comparingDouble(i -> scores[i]).thenComparing(i -> i))
        .limit(count).toList();
  }

  private interface SortedStatistic {
    double of(double[] sorted);
  }

  private static double[] coordinateWise(List<ClientUpdate> updates, SortedStatistic statistic) {
    int length = updates.get(0).length();
    double[] out = new double[length];
    double[] column = new double[updates.size()];
    for (int i = 0; i < length; i++) {
      for (int u = 0; u < column.length; u++) {
        column[u] = updates.get(u).deltaAt(i);
      }
      Arrays.sort(column);
      out[i] = statistic.of(column);
    }
    return out;
  }
}
