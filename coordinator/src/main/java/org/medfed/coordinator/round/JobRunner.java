package org.medfed.coordinator.round;

import java.util.List;
import java.util.Map;
import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.job.RoundRecord;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.strategy.Strategies;
import org.medfed.coordinator.strategy.Strategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a job's rounds one after another until it succeeds, fails or is cancelled. A job the
 * coordinator was running when it died starts again after its last counted round, from that
 * round's checkpoint; the round that was interrupted starts over with fresh tasks and keys.
 */
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
    Strategy strategy = Strategies.create(job.spec().strategy());
    int round = job.roundsCompleted() + 1;
    try {
      GlobalModel model;
      try {
        model = resumePoint(strategy);
      } catch (RuntimeException e) {
        job.failed(round, "cannot resume job " + job.id() + " after round " + (round - 1) + ": " + e.getMessage());
        return;
      }
      job.started();
      services.approvals().open(job, initial);
      int retries = 0;
      while (round <= job.spec().rounds()) {
        RoundOutcome outcome = new RoundStateMachine(job, services, strategy).run(round, model);
        if (outcome instanceof RoundOutcome.Completed completed) {
          job.roundCompleted(completed.record());
          audit(completed.record());
          model = completed.model();
          round++;
          retries = 0;
        } else if (outcome instanceof RoundOutcome.Failed failed) {
          if (retries == job.spec().roundRetries()) {
            job.failed(round, failed.reason() + (retries == 0 ? "" : " (after " + retries + " retries)"));
            return;
          }
          retries++;
          job.progress(round, "ROUND_RETRY", failed.reason() + "; round_retries is " + job.spec().roundRetries()
              + ": trying round " + round + " again (retry " + retries + "), with fresh tasks and keys", Map.of());
        } else if (outcome instanceof RoundOutcome.Cancelled cancelled) {
          job.cancelled(round, cancelled.reason());
          return;
        }
      }
      job.succeeded();
    } catch (InterruptedException e) {
      paused(round);
    } catch (RuntimeException e) {
      if (Thread.currentThread().isInterrupted()) {
        // The stop interrupted file or network I/O (a checkpoint being written): not the job's fault.
        paused(round);
      } else {
        log.error("job {} stopped by an unexpected error in round {}", job.id(), round, e);
        job.failed(round, "round " + round + " stopped by an internal error: " + e);
      }
    } finally {
      // Interrupted file channels close themselves, the audit log's among them: write with the flag clear.
      boolean stopping = Thread.interrupted();
      try {
        services.approvals().close(job.id());
        services.audit().append(job.status().isTerminal() ? "JOB_ENDED" : "JOB_PAUSED", Map.of("job", job.id(),
            "status", job.status().name(), "rounds_completed", job.roundsCompleted(), "message", job.message()));
      } finally {
        if (stopping) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** The coordinator is stopping: the job stays running in the database and resumes at its next start. */
  private void paused(int round) {
    Thread.interrupted();
    job.progress(round, "PAUSED", "coordinator shutting down: round " + round + " stops here and the job resumes"
        + " from the checkpoint of round " + job.roundsCompleted() + " when the coordinator starts again", Map.of());
    Thread.currentThread().interrupt();
  }

  /** The initial model, or the last counted round's checkpoint (digest-checked) with its strategy state. */
  private GlobalModel resumePoint(Strategy strategy) {
    if (job.roundsCompleted() == 0) {
      return initial;
    }
    RoundRecord last = job.rounds().get(job.rounds().size() - 1);
    GlobalModel model = services.checkpoints().readVerified(job.id(), last.round(), last.checkpointSha256());
    services.checkpoints().readStrategyState(job.id(), last.round()).ifPresent(strategy::restore);
    services.audit().append("JOB_RESUMED", Map.of("job", job.id(), "rounds_completed", last.round(),
        "model_sha256", last.checkpointSha256()));
    return model;
  }

  /** After the round is stored: a crash in between leaves the round counted, and JOB_RESUMED names it. */
  private void audit(RoundRecord record) {
    services.audit().append("ROUND_COMPLETED", Map.of("job", job.id(), "round", record.round(),
        "contributors", record.participants(), "dropped", List.copyOf(record.dropped().keySet()),
        "aggregate_model_sha256", record.checkpointSha256()));
  }
}
