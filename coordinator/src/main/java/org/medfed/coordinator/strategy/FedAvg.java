package org.medfed.coordinator.strategy;

/**
 * Federated averaging (McMahan et al. 2017, arXiv 1602.05629): the new global model is the
 * sample-weighted mean of the hospitals' local models, i.e. global + weighted mean delta.
 */
public final class FedAvg implements MeanRule {

  @Override
  public Aggregate aggregate(int round, float[] globalParameters, RoundUpdate update) {
    Aggregation.requireSameLength(globalParameters, update);
    return new Aggregate.Updated(Aggregation.add(globalParameters, update), Aggregation.withSamples(update));
  }

  @Override
  public String toString() {
    return "FedAvg";
  }
}
