package org.medfed.coordinator.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.job.JobEvent;
import org.medfed.coordinator.job.JobStatus;
import org.medfed.coordinator.job.RoundRecord;
import org.medfed.coordinator.round.RoundStateMachine;
import org.medfed.coordinator.session.NodeRegistry;
import org.medfed.coordinator.store.StorageMonitor;
import org.medfed.coordinator.store.StorageProblem;

/**
 * The coordinator's Prometheus metrics: rounds, stage durations, connected nodes, dropouts and
 * rejected updates (bytes come from {@link org.medfed.telemetry.WireBytes}). Everything is derived
 * from job events and the node registry, so the round state machine knows nothing of metrics.
 */
public final class CoordinatorMetrics {
  private final Map<String, AtomicReference<Double>> epsilonSpent = new ConcurrentHashMap<>();
  private final MeterRegistry registry;
  private final Counter roundsCompleted;
  private final Counter roundsFailed;
  private final Counter dropouts;
  private final Counter rejected;

  public CoordinatorMetrics(MeterRegistry registry, NodeRegistry nodes) {
    this.registry = registry;
    roundsCompleted = Counter.builder("medfed.rounds.completed").description("Rounds counted").register(registry);
    roundsFailed = Counter.builder("medfed.rounds.failed").description("Rounds that failed (retried or ending the job)")
        .register(registry);
    dropouts = Counter.builder("medfed.dropouts").description("Selected nodes left out of a completed round")
        .register(registry);
    rejected = Counter.builder("medfed.updates.rejected").description("Updates refused by validation")
        .register(registry);
    Gauge.builder("medfed.nodes.connected", nodes, n -> n.connectedIds().size()).strongReference(true)
        .description("Hospital nodes with an open session").register(registry);
  }

  /** Gauges of the jobs by status. */
  public void trackJobs(Supplier<List<Job>> jobs) {
    for (JobStatus status : JobStatus.values()) {
      Gauge.builder("medfed.jobs", jobs, all -> all.get().stream().filter(j -> j.status() == status).count())
          .tag("status", status.name().toLowerCase(Locale.ROOT)).description("Jobs by status")
          .strongReference(true)
          .register(registry);
    }
  }

  /** 1 while this coordinator holds the store's lease and drives the jobs, 0 on standby. */
  public void trackActive(BooleanSupplier active) {
    Gauge.builder("medfed.coordinator.active", active, a -> a.getAsBoolean() ? 1 : 0).strongReference(true)
        .description("1 when this coordinator holds the store's lease and drives the jobs, 0 on standby")
        .register(registry);
  }

  /**
   * {@code medfed_coordinator_info{holder="coordinator 'NAME' on HOST:PORT (pid N)"} 1}: how this
   * coordinator is named in the store's lease, so that beside {@code medfed_coordinator_active} a
   * scrape of every coordinator tells which one is active.
   */
  public void trackIdentity(String holder) {
    Gauge.builder("medfed.coordinator.info", () -> 1).tag("holder", holder).strongReference(true)
        .description("this coordinator as the store's lease names it; the value is always 1")
        .register(registry);
  }

  /**
   * Whether the coordinator can write its state (jobs pause while it cannot), the free space where
   * a write was refused and the room a round needs, and audit records its database copy still lacks.
   */
  public void trackStorage(StorageMonitor storage) {
    Gauge.builder("medfed.storage.writable", storage, s -> s.problem().isEmpty() ? 1 : 0).strongReference(true)
        .description("1 when the data folder and the database take writes; 0 while jobs are paused for them")
        .register(registry);
    Gauge.builder("medfed.storage.free.bytes", storage, s -> s.problem().flatMap(StorageProblem::usableBytes)
        .map(Long::doubleValue).orElse(Double.NaN)).strongReference(true)
        .description("Free space where a write was refused; NaN while writes succeed").register(registry);
    Gauge.builder("medfed.storage.needed.bytes", storage, s -> s.problem().map(StorageProblem::neededBytes).orElse(0L))
        .strongReference(true).description("Room the paused jobs' next round needs; 0 while writes succeed")
        .register(registry);
    Gauge.builder("medfed.audit.records.unmirrored", storage, StorageMonitor::auditRecordsWaiting)
        .strongReference(true).description("Audit records in audit.log that the database copy has yet to take")
        .register(registry);
  }

  public void updateRejected() {
    rejected.increment();
  }

  /** Follows a job's events from now on (a resumed job's history was counted before the restart). */
  public void watch(Job job) {
    AtomicBoolean live = new AtomicBoolean();
    StageTimer stages = new StageTimer();
    job.watch(event -> {
      if (live.get()) {
        observe(job, event, stages);
      }
    });
    live.set(true);
  }

  private void observe(Job job, JobEvent event, StageTimer stages) {
    switch (event.phase()) {
      case "ROUND_COMPLETED" -> {
        stages.end(event.at());
        roundsCompleted.increment();
        List<RoundRecord> rounds = job.rounds();
        if (!rounds.isEmpty()) {
          RoundRecord last = rounds.get(rounds.size() - 1);
          dropouts.increment(last.dropped().size());
          last.evaluations().forEach((hospital, values) -> {
            Double spent = values.get("dp_epsilon");
            if (spent != null) {
              privacySpent(job.id(), hospital).set(spent);
            }
          });
        }
      }
      case "ROUND_RETRY", "FAILED" -> {
        stages.end(event.at());
        roundsFailed.increment();
      }
      case "CANCELLED", "SUCCEEDED", "STORAGE_PAUSED" -> stages.end(event.at());
      default -> {
        if (isStage(event.phase())) {
          stages.enter(event.phase(), event.at());
        }
      }
    }
  }

  /** The epsilon a DP job has spent at a hospital, as the hospital reported it with its last evaluation. */
  private AtomicReference<Double> privacySpent(String jobId, String hospital) {
    return epsilonSpent.computeIfAbsent(jobId + "\u0000" + hospital, key -> {
      AtomicReference<Double> value = new AtomicReference<>(0.0);
      Gauge.builder("medfed.privacy.epsilon.spent", value, AtomicReference::get).tag("job", jobId)
          .tag("hospital", hospital).description("Epsilon a DP-SGD job has spent at a hospital, as it reported")
          .strongReference(true).register(registry);
      return value;
    });
  }

  private static boolean isStage(String phase) {
    return phase.startsWith("SECAGG_") || Arrays.stream(
        RoundStateMachine.Phase.values()).anyMatch(p -> p.name().equals(phase));
  }

  /** Times each stage from its event to the next stage's, per job. */
  private final class StageTimer {
    private String stage;
    private Instant since;

    synchronized void enter(String next, Instant at) {
      if (next.equals(stage)) {
        return;
      }
      end(at);
      stage = next;
      since = at;
    }

    synchronized void end(Instant at) {
      if (stage != null) {
        Timer.builder("medfed.stage.duration").tag("stage", stage.toLowerCase(Locale.ROOT))
            .description("Time spent in each round stage").register(registry)
            .record(Duration.between(since, at));
      }
      stage = null;
      since = null;
    }
  }
}
