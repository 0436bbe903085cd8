package org.medfed.coordinator.strategy;

import java.util.List;

/**
 * Coordinate-wise median of the hospitals' deltas (Yin et al. 2018, arXiv 1803.01498; Flower's
 * FedMedian): one hospital's outlying or corrupted update cannot drag any weight past the middle
 * of the others. Needs each update, so plaintext jobs only.
 */
public final class FedMedian implements PerUpdateRule {

  @Override
  public Aggregate aggregate(int round, float[] globalParameters, List<ClientUpdate> updates) {
    Aggregation.requireSameLength(globalParameters, updates);
    return new Aggregate.Updated(Aggregation.add(globalParameters, RobustAggregation.median(updates)),
        Aggregation.metricsOf(updates));
  }

  @Override
  public String toString() {
    return "FedMedian";
  }
}
