package org.medfed.coordinator.round;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.job.RoundRecord;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.store.CheckpointStore;
import org.medfed.coordinator.store.StorageMonitor;
import org.medfed.coordinator.store.StorageProblem;
import org.medfed.coordinator.strategy.Strategies;
import org.medfed.coordinator.strategy.Strategy;
import org.medfed.wire.Digests;
import org.medfed.wire.FeatureStatistics;
import org.medfed.wire.Tensors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a job's rounds one after another until it succeeds, fails or is cancelled. A job the
 * coordinator was running when it died starts again after its last counted round, from that
 * round's checkpoint; the round that was interrupted starts over with fresh tasks and keys. A job
 * whose state cannot be written (a full disk) pauses the same way and is run again once it can.
 */
final class JobRunner implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

  private final Job job;
  /**
   * Built when the job starts from round 1 (or a check needs its size), and not kept: from round 2 on
   * the coordinator would otherwise hold it beside the global model and the round's arrays.
   */
  private final Supplier<GlobalModel> initialModel;
  private final RoundServices services;
  private final StorageMonitor storage;
  private final String resumeReason;
  private Optional<StorageProblem> paused = Optional.empty();
  /** {@link CheckpointStore#roomForRound} of the job's model, once a model was at hand; 0 before. */
  private long neededBytes;

  /**
   * @param initialModel builds the job's initial model (deterministic for its spec)
   * @param resumeReason what stopped a running job, shown when it goes on: "coordinator restarted"
   */
  JobRunner(Job job, Supplier<GlobalModel> initialModel, RoundServices services, StorageMonitor storage,
      String resumeReason) {
    this.job = job;
    this.initialModel = initialModel;
    this.services = services;
    this.storage = storage;
    this.resumeReason = resumeReason;
  }

  /** After {@link #run}: the refused write that paused the job, if that is why it stopped. */
  Optional<StorageProblem> pausedOn() {
    return paused;
  }

  @Override
  public void run() {
    Strategy strategy = Strategies.create(job.spec().strategy());
    int round = job.roundsCompleted() + 1;
    try {
      GlobalModel model;
      RoundStateMachine rounds;
      try {
        ResumePoint resumed = resumePoint(strategy);
        model = resumed.model();
        rounds = new RoundStateMachine(job, services, strategy, resumed.scaling());
      } catch (RuntimeException e) {
        if (storage.diagnose(e, neededBytes()).isPresent()) {
          throw e;
        }
        job.failed(round, "cannot resume job " + job.id() + " after round " + (round - 1) + ": " + e.getMessage());
        return;
      }
      job.started(resumeReason);
      // The proposal needs the model's architecture and size, which every round's model shares.
      services.approvals().open(job, model);
      int retries = 0;
      while (round <= job.spec().rounds()) {
        RoundOutcome outcome = rounds.run(round, model);
        if (outcome instanceof RoundOutcome.Completed completed) {
          job.roundCompleted(completed.record());
          audit(completed);
          model = completed.model();
          round++;
          retries = 0;
          Optional<String> patienceOut = job.spec().selection().stopReason(job.rounds());
          if (patienceOut.isPresent() && round <= job.spec().rounds()) {
            job.stoppedEarly(patienceOut.get());
            return;
          }
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
        ended(round, e);
      }
    } catch (Error e) {
      // Out of memory, or classes changed under a running coordinator: the runner ends here either way,
      // so the job must say so, never stay RUNNING with nothing driving it while watchers wait.
      ended(round, new IllegalStateException(e.toString(), e));
      if (e instanceof VirtualMachineError) {
        throw e;
      }
    } finally {
      // Interrupted file channels close themselves, the audit log's among them: write with the flag clear.
      boolean stopping = Thread.interrupted();
      try {
        services.approvals().close(job.id());
        services.audit().append(job.status().isTerminal() ? "JOB_ENDED" : "JOB_PAUSED", Map.of("job", job.id(),
            "status", job.status().name(), "rounds_completed", job.roundsCompleted(), "message", job.message()));
      } catch (RuntimeException e) {
        // The job's own state is stored (or it paused for that); this record is the one that is lost.
        log.warn("job {}: the audit log did not take its {} record: {}", job.id(),
            job.status().isTerminal() ? "JOB_ENDED" : "JOB_PAUSED", e.getMessage());
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

  /**
   * An error ended the round. A write the storage refused pauses the job, as a shutdown does; any
   * other error fails it, unless even that cannot be stored, when it pauses so that no watcher,
   * waiter or database ever holds a different ending.
   */
  private void ended(int round, RuntimeException error) {
    Optional<StorageProblem> refusal = storage.diagnose(error, neededBytes());
    if (refusal.isEmpty()) {
      log.error("job {} stopped by an unexpected error in round {}", job.id(), round, error);
      try {
        job.failed(round, "round " + round + " stopped by an internal error: " + error);
        return;
      } catch (RuntimeException notStored) {
        refusal = Optional.of(storage.diagnose(notStored, neededBytes()).orElseGet(() -> new StorageProblem(
            "the coordinator database", String.valueOf(notStored.getMessage()), Optional.empty(), neededBytes(),
            services.clock().instant())));
      }
    }
    paused = refusal;
    // Reported first, so whoever sees the job paused also sees why on /metrics and the dashboard.
    storage.report(refusal.get());
    job.pausedForStorage(round, "paused, the coordinator cannot write its state: " + refusal.get().describe()
        + ". Round " + round + " stops here; the job stays running and goes on from the checkpoint of round "
        + job.roundsCompleted());
  }

  private long neededBytes() {
    if (neededBytes == 0) {
      neededBytes = CheckpointStore.roomForRound(initialModel.get());
    }
    return neededBytes;
  }

  private record ResumePoint(GlobalModel model, Optional<FeatureStatistics.Scaling> scaling) {}

  /**
   * The initial model, or the last counted round's checkpoint (digest-checked) with its strategy
   * state, restored into {@code strategy}, and the job's feature scaling.
   */
  private ResumePoint resumePoint(Strategy strategy) {
    if (job.roundsCompleted() == 0) {
      GlobalModel initial = initialModel.get();
      neededBytes = CheckpointStore.roomForRound(initial);
      return new ResumePoint(initial, Optional.empty());
    }
    RoundRecord last = job.rounds().get(job.rounds().size() - 1);
    CheckpointStore.Checkpoint checkpoint = services.checkpoints().readVerified(job.id(), last.round(),
        last.checkpointSha256());
    neededBytes = CheckpointStore.roomForRound(checkpoint.model());
    ScalingCheckpoint.Restored restored = ScalingCheckpoint.split(checkpoint.strategyState());
    strategy.restore(restored.strategy());
    services.audit().append("JOB_RESUMED", Map.of("job", job.id(), "rounds_completed", last.round(),
        "model_sha256", sha256(checkpoint.model()), "checkpoint_sha256", last.checkpointSha256()));
    return new ResumePoint(checkpoint.model(), restored.scaling());
  }

  /**
   * After the round is stored: a crash in between leaves the round counted, and JOB_RESUMED names it.
   * The model's own digest links to the next ROUND_STARTED; the checkpoint's also covers strategy state.
   */
  private void audit(RoundOutcome.Completed completed) {
    RoundRecord record = completed.record();
    services.audit().append("ROUND_COMPLETED", Map.of("job", job.id(), "round", record.round(),
        "contributors", record.participants(), "dropped", List.copyOf(record.dropped().keySet()),
        "aggregate_model_sha256", sha256(completed.model()), "checkpoint_sha256", record.checkpointSha256()));
  }

  private static String sha256(GlobalModel model) {
    return Digests.hex(Tensors.sha256(model.parameterView()));
  }
}
