package org.medfed.coordinator.strategy;

import java.util.Map;

/** What a strategy decided for a round: new global weights, or a reason to skip the update. */
public sealed interface Aggregate {

  record Updated(float[] parameters, Map<String, Double> metrics) implements Aggregate {
    public Updated {
      parameters = parameters.clone();
      metrics = Map.copyOf(metrics);
    }

    @Override
    public float[] parameters() {
      return parameters.clone();
    }
  }

  record Skipped(String reason) implements Aggregate {}
}
