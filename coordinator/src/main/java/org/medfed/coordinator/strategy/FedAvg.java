package org.medfed.coordinator.strategy;

import java.util.List;

/**
 * Federated averaging (McMahan et al. 2017, arXiv 1602.05629): the new global model is the
 * sample-weighted mean of the hospitals' local models, computed here as global + weighted mean delta.
 */
public final class FedAvg implements Strategy {

  @Override
  public Aggregate aggregate(int round, float[] globalParameters, List<ClientUpdate> updates) {
    if (updates.isEmpty()) {
      return new Aggregate.Skipped("round " + round + ": no updates to average");
    }
    float[] mean = Aggregation.meanDelta(globalParameters, updates);
    return new Aggregate.Updated(Aggregation.add(globalParameters, mean), Aggregation.roundMetrics(updates));
  }

  @Override
  public String toString() {
    return "FedAvg";
  }
}
