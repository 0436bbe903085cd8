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
    check("deadlines.selection", selection);
    check("deadlines.training", training);
    check("deadlines.evaluation", evaluation);
  }

  public static StageDeadlines defaults() {
    return new StageDeadlines(Duration.ofMinutes(2), Duration.ofMinutes(10), Duration.ofMinutes(5));
  }

  private static void check(String field, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new InvalidJobSpecException(field, "must be positive, got " + value.toSeconds() + "s");
    }
  }
}
