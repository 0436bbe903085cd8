package org.medfed.coordinator.strategy;

import java.util.Map;

/**
 * One hospital's accepted update for a round: the change to the global weights it proposes,
 * weighted by the number of samples it trained on.
 */
public record ClientUpdate(String nodeId, float[] delta, long numSamples, Map<String, Double> metrics) {
  public ClientUpdate {
    if (numSamples <= 0) {
      throw new IllegalArgumentException("update from '" + nodeId + "' claims " + numSamples + " samples");
    }
    delta = delta.clone();
    metrics = Map.copyOf(metrics);
  }

  @Override
  public float[] delta() {
    return delta.clone();
  }

  /** Read-only access without a copy, for the aggregation arithmetic. */
  float deltaAt(int i) {
    return delta[i];
  }

  int length() {
    return delta.length;
  }
}
