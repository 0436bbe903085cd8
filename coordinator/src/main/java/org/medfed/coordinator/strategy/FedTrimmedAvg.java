package org.medfed.coordinator.strategy;

import java.util.List;

/**
 * Coordinate-wise trimmed mean (Yin et al. 2018, arXiv 1803.01498), as Flower's FedTrimmedAvg: per
 * weight, the ⌊β·n⌋ smallest and ⌊β·n⌋ largest deltas are dropped and the rest averaged. With β = 0
 * it is the unweighted mean. Needs each update, so plaintext jobs only.
 */
public final class FedTrimmedAvg implements PerUpdateRule {
  private final double trimFraction;

  /** @param trimFraction β in [0, 0.5) */
  public FedTrimmedAvg(double trimFraction) {
    if (!(trimFraction >= 0 && trimFraction < 0.5)) {
      throw new IllegalArgumentException("trim fraction must be in [0, 0.5), got " + trimFraction);
    }
    this.trimFraction = trimFraction;
  }

  @Override
  public Aggregate aggregate(int round, float[] globalParameters, List<ClientUpdate> updates) {
    Aggregation.requireSameLength(globalParameters, updates);
    int trimmed = (int) Math.floor(trimFraction * updates.size());
    return new Aggregate.Updated(
        Aggregation.add(globalParameters, RobustAggregation.trimmedMean(updates, trimmed)),
        Aggregation.metricsOf(updates));
  }

  @Override
  public String toString() {
    return "FedTrimmedAvg(beta=" + trimFraction + ")";
  }
}
