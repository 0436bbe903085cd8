package org.medfed.coordinator.strategy;

import java.util.Map;

/**
 * What a round contributes, already combined across hospitals: the sample-weighted mean of their
 * weight deltas. Strategies see only this, whether it was averaged in the clear or recovered from a
 * secure-aggregation sum, so no strategy ever sees one hospital's update.
 *
 * @param samples total training samples behind the mean (from the masked weights when secure)
 */
public record RoundUpdate(float[] meanDelta, double samples, int contributors, Map<String, Double> metrics) {
  public RoundUpdate {
    meanDelta = meanDelta.clone();
    metrics = Map.copyOf(metrics);
    if (contributors < 1) {
      throw new IllegalArgumentException("a round update needs at least one contributor, got " + contributors);
    }
  }

  @Override
  public float[] meanDelta() {
    return meanDelta.clone();
  }

  float at(int i) {
    return meanDelta[i];
  }

  int length() {
    return meanDelta.length;
  }
}
