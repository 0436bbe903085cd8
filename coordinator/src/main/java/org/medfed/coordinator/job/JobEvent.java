package org.medfed.coordinator.job;

import java.time.Instant;
import java.util.Map;

/** One step of a job's progress, as shown to people watching it. Never carries an update. */
public record JobEvent(String jobId, Instant at, int round, String phase, String message,
    Map<String, Double> metrics, JobStatus status) {
  public JobEvent {
    metrics = Map.copyOf(metrics);
  }
}
