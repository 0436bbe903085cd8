package org.medfed.coordinator.strategy;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One hospital's accepted update for a round: the change to the global weights it proposes,
 * weighted by the number of samples it trained on, and any extra vectors the strategy declared
 * (SCAFFOLD's "control_delta"), by name.
 */
public record ClientUpdate(String nodeId, float[] delta, Map<String, float[]> extras, long numSamples,
    Map<String, Double> metrics) {
  public ClientUpdate {
    if (numSamples <= 0) {
      throw new IllegalArgumentException("update from '" + nodeId + "' claims " + numSamples + " samples");
    }
    delta = delta.clone();
    Map<String, float[]> copy = new LinkedHashMap<>();
    for (Map.Entry<String, float[]> extra : extras.entrySet()) {
      if (extra.getValue().length != delta.length) {
        throw new IllegalArgumentException("update from '" + nodeId + "': vector '" + extra.getKey() + "' has "
            + extra.getValue().length + " values, its delta " + delta.length);
      }
      copy.put(extra.getKey(), extra.getValue().clone());
    }
    extras = Collections.unmodifiableMap(copy);
    metrics = Map.copyOf(metrics);
  }

  /** An update of a delta alone. */
  public ClientUpdate(String nodeId, float[] delta, long numSamples, Map<String, Double> metrics) {
    this(nodeId, delta, Map.of(), numSamples, metrics);
  }

  @Override
  public float[] delta() {
    return delta.clone();
  }

  @Override
  public Map<String, float[]> extras() {
    Map<String, float[]> copy = new LinkedHashMap<>();
    extras.forEach((name, values) -> copy.put(name, values.clone()));
    return copy;
  }

  /** Read-only access without a copy, for the aggregation arithmetic. */
  float deltaAt(int i) {
    return delta[i];
  }

  /** The named extra vector without a copy, for the aggregation arithmetic. */
  float[] extraView(String name) {
    float[] values = extras.get(name);
    if (values == null) {
      throw new IllegalArgumentException("update from '" + nodeId + "' has no vector '" + name + "'; it has "
          + extras.keySet());
    }
    return values;
  }

  int length() {
    return delta.length;
  }
}
