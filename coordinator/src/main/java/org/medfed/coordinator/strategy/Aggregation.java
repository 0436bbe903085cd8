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
    return weightedMean(updates, "delta", (update, i) -> update.deltaAt(i));
  }

  private interface Component {
    float of(ClientUpdate update, int i);
  }

  private static float[] weightedMean(List<ClientUpdate> updates, String what, Component component) {
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
        sum[i] += weight * component.of(update, i);
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
   * Combines plaintext updates as secure aggregation would: the sample-weighted mean of the deltas
   * and of each extra vector, and the round's training metrics.
   */
  public static RoundUpdate combine(List<ClientUpdate> updates) {
    Map<String, Double> metrics = new LinkedHashMap<>(weightedMetrics(updates));
    double samples = updates.stream().mapToLong(ClientUpdate::numSamples).sum();
    Map<String, float[]> extras = new LinkedHashMap<>();
    for (String name : updates.get(0).extras().keySet()) {
      extras.put(name, weightedMean(updates, name, (update, i) -> update.extraView(name)[i]));
    }
    return new RoundUpdate(weightedMeanDelta(updates), extras, samples, updates.size(), metrics);
  }

  /** Checks that a round update fits the model. */
  static void requireSameLength(float[] globalParameters, RoundUpdate update) {
    requireSameLength(globalParameters, update.length(), "the round update");
  }

  /** Checks that a round update, or state restored from a checkpoint, fits the model. */
  static void requireSameLength(float[] globalParameters, int length, String what) {
    if (length != globalParameters.length) {
      throw new IllegalArgumentException(what + " has " + length + " values but the model has "
          + globalParameters.length);
    }
  }

  static float[] add(float[] base, RoundUpdate update) {
    float[] out = new float[base.length];
    for (int i = 0; i < base.length; i++) {
      out[i] = base[i] + update.at(i);
    }
    return out;
  }

  static float[] add(float[] base, double[] delta) {
    float[] out = new float[base.length];
    for (int i = 0; i < base.length; i++) {
      out[i] = (float) (base[i] + delta[i]);
    }
    return out;
  }

  /** The round's metrics from the updates a rule used: their weighted metrics and their samples. */
  static Map<String, Double> metricsOf(List<ClientUpdate> updates) {
    Map<String, Double> metrics = new LinkedHashMap<>(weightedMetrics(updates));
    metrics.put("samples", (double) updates.stream().mapToLong(ClientUpdate::numSamples).sum());
    return metrics;
  }

  /** Checks that every update fits the model, naming the first that does not. */
  static void requireSameLength(float[] globalParameters, List<ClientUpdate> updates) {
    for (ClientUpdate update : updates) {
      requireSameLength(globalParameters, update.length(), "the update from '" + update.nodeId() + "'");
    }
  }

  static Map<String, Double> withSamples(RoundUpdate update) {
    Map<String, Double> metrics = new LinkedHashMap<>(update.metrics());
    metrics.put("samples", update.samples());
    return metrics;
  }
}
