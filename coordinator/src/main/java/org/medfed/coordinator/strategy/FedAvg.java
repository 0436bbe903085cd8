package org.medfed.coordinator.strategy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
    float[] mean = Aggregation.weightedMeanDelta(updates);
    if (mean.length != globalParameters.length) {
      throw new IllegalArgumentException("updates have " + mean.length + " values but the model has "
          + globalParameters.length);
    }
    Map<String, Double> metrics = new LinkedHashMap<>(Aggregation.weightedMetrics(updates));
    metrics.put("samples", (double) updates.stream().mapToLong(ClientUpdate::numSamples).sum());
    return new Aggregate.Updated(Aggregation.add(globalParameters, mean), metrics);
  }

  @Override
  public String toString() {
    return "FedAvg";
  }
}
