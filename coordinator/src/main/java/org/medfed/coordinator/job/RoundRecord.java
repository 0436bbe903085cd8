package org.medfed.coordinator.job;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What happened in one completed round.
 *
 * @param dropped selected nodes whose update was not aggregated, with the reason
 * @param checkpointSha256 the SHA-256 of the round's checkpointed parameters, followed by the strategy
 *     state when the strategy keeps any; checked on resume
 */
public record RoundRecord(int round, List<String> participants, Map<String, String> dropped,
    Map<String, Double> metrics, Duration took, String checkpointSha256) {
  public RoundRecord {
    participants = List.copyOf(participants);
    dropped = Map.copyOf(dropped);
    metrics = Map.copyOf(metrics);
  }
}
