package org.medfed.coordinator.strategy;

/** A strategy that needs only the round's sample-weighted mean delta, so it works under secure aggregation. */
public non-sealed interface MeanRule extends Strategy {

  Aggregate aggregate(int round, float[] globalParameters, RoundUpdate mean);

  @Override
  default Aggregate aggregate(int round, float[] globalParameters, RoundInput input) {
    return aggregate(round, globalParameters, input.mean());
  }
}
