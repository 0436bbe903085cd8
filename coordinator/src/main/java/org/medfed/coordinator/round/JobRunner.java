package org.medfed.coordinator.round;

import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.strategy.Strategies;
import org.medfed.coordinator.strategy.Strategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a job's rounds one after another until it succeeds, fails or is cancelled. */
final class JobRunner implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

  private final Job job;
  private final GlobalModel initial;
  private final RoundServices services;

  JobRunner(Job job, GlobalModel initial, RoundServices services) {
    this.job = job;
    this.initial = initial;
    this.services = services;
  }

  @Override
  public void run() {
    job.started();
    services.approvals().open(job, initial);
    GlobalModel model = initial;
    int round = 1;
    Strategy strategy = Strategies.create(job.spec().strategy());
    try {
      for (; round <= job.spec().rounds(); round++) {
        RoundOutcome outcome = new RoundStateMachine(job, services, strategy)
            .run(round, model);
        if (outcome instanceof RoundOutcome.Completed completed) {
          model = completed.model();
          job.roundCompleted(completed.record());
        } else if (outcome instanceof RoundOutcome.Failed failed) {
          job.failed(round, failed.reason());
          return;
        } else if (outcome instanceof RoundOutcome.Cancelled cancelled) {
          job.cancelled(round, cancelled.reason());
          return;
        }
      }
      job.succeeded();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      job.cancelled(round, "coordinator shutting down");
    } catch (RuntimeException e) {
      log.error("job {} stopped by an unexpected error in round {}", job.id(), round, e);
      job.failed(round, "round " + round + " stopped by an internal error: " + e);
    } finally {
      services.approvals().close(job.id());
      services.audit().append("JOB_ENDED", java.util.Map.of("job", job.id(), "status", job.status().name(),
          "rounds_completed", job.roundsCompleted(), "message", job.message()));
    }
  }
}
