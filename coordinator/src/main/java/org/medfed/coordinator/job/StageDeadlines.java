package org.medfed.coordinator.job;

import java.time.Duration;

/**
 * How long each stage of a round may take, so that a round never waits forever.
 *
 * @param selection how long to wait for at least min_nodes eligible hospitals to be connected
 * @param training from sending the model to the last accepted update
 * @param evaluation for federated evaluation of the new global model
 */
public record StageDeadlines(Duration selection, Duration training, Duration evaluation) {
  public StageDeadlines {
    JobSchema.DEADLINE_SELECTION.check(selection);
    JobSchema.DEADLINE_TRAINING.check(training);
    JobSchema.DEADLINE_EVALUATION.check(evaluation);
  }

  public static StageDeadlines defaults() {
    return new StageDeadlines((Duration) JobSchema.DEADLINE_SELECTION.fallback(),
        (Duration) JobSchema.DEADLINE_TRAINING.fallback(), (Duration) JobSchema.DEADLINE_EVALUATION.fallback());
  }
}
