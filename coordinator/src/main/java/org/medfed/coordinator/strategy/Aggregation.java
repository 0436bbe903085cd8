package org.medfed.coordinator.strategy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The arithmetic shared by strategies: pure, stateless functions over updates. */
public final class Aggregation {
  private Aggregation() {}

  /**
   * The sample-weighted mean of the updates' deltas, accumulated in double precision so that many
   * hospitals do not lose float32 bits to summation order.
   */
  public static float[] weightedMeanDelta(List<ClientUpdate> updates) {
    if (updates.isEmpty()) {
      throw new IllegalArgumentException("cannot average zero updates");
    }
    int length = updates.get(0).length();
    double[] sum = new double[length];
    double totalWeight = 0;
    for (ClientUpdate update : updates) {
      if (update.length() != length) {
        throw new IllegalArgumentException("update from '" + update.nodeId() + "' has " + update.length()
            + " values, expected " + length);
      }
      double weight = update.numSamples();
      totalWeight += weight;
      for (int i = 0; i < length; i++) {
        sum[i] += weight * update.deltaAt(i);
      }
    }
    float[] mean = new float[length];
    for (int i = 0; i < length; i++) {
      mean[i] = (float) (sum[i] / totalWeight);
    }
    return mean;
  }

  /** Sample-weighted mean of each metric over the updates that report it. */
  public static Map<String, Double> weightedMetrics(List<ClientUpdate> updates) {
    Set<String> names = new TreeSet<>();
    updates.forEach(u -> names.addAll(u.metrics().keySet()));
    Map<String, Double> result = new LinkedHashMap<>();
    for (String name : names) {
      double sum = 0;
      double weight = 0;
      for (ClientUpdate u : updates) {
        Double value = u.metrics().get(name);
        if (value != null && Double.isFinite(value)) {
          sum += value * u.numSamples();
          weight += u.numSamples();
        }
      }
      if (weight > 0) {
        result.put(name, sum / weight);
      }
    }
    return result;
  }

  /**
   * The weighted mean delta of a round's updates, checked against the model's size.
   *
   * @throws IllegalArgumentException if the updates do not match the model
   */
  static float[] meanDelta(float[] globalParameters, List<ClientUpdate> updates) {
    float[] mean = weightedMeanDelta(updates);
    if (mean.length != globalParameters.length) {
      throw new IllegalArgumentException("updates have " + mean.length + " values but the model has "
          + globalParameters.length);
    }
    return mean;
  }

  /** Training metrics of a round: weighted means plus the total sample count. */
  static Map<String, Double> roundMetrics(List<ClientUpdate> updates) {
    Map<String, Double> metrics = new LinkedHashMap<>(weightedMetrics(updates));
    metrics.put("samples", (double) updates.stream().mapToLong(ClientUpdate::numSamples).sum());
    return metrics;
  }

  public static float[] add(float[] base, float[] delta) {
    float[] out = new float[base.length];
    for (int i = 0; i < base.length; i++) {
      out[i] = base[i] + delta[i];
    }
    return out;
  }
}
