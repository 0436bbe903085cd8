package org.medfed.coordinator.job;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What happened in one completed round.
 *
 * @param dropped selected nodes whose update was not aggregated, with the reason
 * @param checkpointSha256 the SHA-256 of the round's checkpointed parameters, followed by the strategy
 *     state when the strategy keeps any; checked on resume
 * @param evaluations each hospital's evaluation of the round's global model on its own test split
 *     (metric name to value, with {@code samples}), so a site the model fails is seen beside the mean
 */
public record RoundRecord(int round, List<String> participants, Map<String, String> dropped,
    Map<String, Double> metrics, Duration took, String checkpointSha256,
    Map<String, Map<String, Double>> evaluations) {
  public RoundRecord {
    participants = List.copyOf(participants);
    dropped = Map.copyOf(dropped);
    metrics = Map.copyOf(metrics);
    Map<String, Map<String, Double>> copy = new TreeMap<>();
    evaluations.forEach((node, values) -> copy.put(node, Map.copyOf(values)));
    evaluations = Collections.unmodifiableMap(copy);
  }

  /** A round without per-hospital evaluations (stored before they were kept). */
  public RoundRecord(int round, List<String> participants, Map<String, String> dropped, Map<String, Double> metrics,
      Duration took, String checkpointSha256) {
    this(round, participants, dropped, metrics, took, checkpointSha256, Map.of());
  }
}
