package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.medfed.coordinator.store.CheckpointStore;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.RoundRecord;
import org.medfed.trust.audit.AuditLog;
import org.medfed.trust.audit.AuditVerifier;
import org.medfed.trust.tls.CoordinatorChannels;
import org.medfed.trust.tls.TlsFiles;

/**
 * Stops a coordinator process at chosen stages of a running job, as a crash would, and follows the
 * job across the stops: on the admin channel of one coordinator that restarts on the same data
 * folder ({@code CrashResumeTest}, {@code StrategyCrashResumeTest}) or of an active coordinator and
 * its standby that takes over ({@code FailoverEndToEndTest}).
 */
final class CrashDrill {
  private CrashDrill() {}

  /**
   * A SIGKILL (or, if {@code graceful}, a SIGTERM) as soon as (plus {@code delayMillis}) the job
   * enters {@code phase} in round {@code round} or later.
   */
  record KillPoint(String phase, long delayMillis, int round, boolean graceful) {
    static KillPoint kill(String phase, long delayMillis, int round) {
      return new KillPoint(phase, delayMillis, round, false);
    }
  }

  /**
   * Stops the coordinator at each point of {@code plan} in turn, restarting it after each; returns
   * where each stop landed ("PHASE+Nms in round R"), for messages.
   */
  static List<String> run(CoordinatorProcess coordinator, CoordinatorChannels admin, String jobId,
      List<KillPoint> plan, Duration giveUp) throws Exception {
    List<String> killedAt = new ArrayList<>();
    long until = System.nanoTime() + giveUp.toNanos();
    for (KillPoint next : plan) {
      assertTrue(System.nanoTime() < until, "kill plan not finished; at " + next + " of " + plan + "; killed at "
          + killedAt);
      JobEvent hit = awaitPhase(admin, jobId, next, coordinator.startedAtMillis());
      Thread.sleep(next.delayMillis());
      if (next.graceful()) {
        coordinator.stop();
      } else {
        coordinator.kill();
      }
      killedAt.add((next.graceful() ? "SIGTERM at " : "") + next.phase() + "+" + next.delayMillis() + "ms in round "
          + hit.getRound());
      coordinator.start();
    }
    return killedAt;
  }

  /**
   * Follows the job until it enters {@code point}'s phase, ignoring events from before
   * {@code sinceMillis}: after a restart or a takeover the stored history comes again, and it is
   * what the killed process did. While a coordinator is unreachable or on standby, tries the next
   * address of {@code channels}.
   */
  static JobEvent awaitPhase(CoordinatorChannels channels, String jobId, KillPoint point, long sinceMillis)
      throws InterruptedException {
    while (true) {
      try {
        Iterator<JobEvent> events = AdminServiceGrpc.newBlockingStub(channels).withDeadlineAfter(120, TimeUnit.SECONDS)
            .watchJob(GetJobRequest.newBuilder().setJobId(jobId).build());
        while (events.hasNext()) {
          JobEvent event = events.next();
          if (event.getAtUnixMillis() >= sinceMillis && event.getPhase().equals(point.phase())
              && event.getRound() >= point.round()) {
            return event;
          }
          if (Federation.ended(event.getState())) {
            throw new AssertionError("job ended before reaching " + point + ": " + event.getMessage());
          }
        }
      } catch (StatusRuntimeException e) {
        if (!CoordinatorChannels.elsewhere(e)) {
          throw e;
        }
        if (channels.moveOn().equals(channels.targets().get(0))) {
          // Every address refused: the coordinator is starting; do not spin against it.
          Thread.sleep(50);
        }
      }
    }
  }

  /** Follows the job on the active coordinator until it ends; returns its detail. */
  static JobDetail awaitEnd(CoordinatorChannels channels, String jobId) {
    return channels.onActive(channel -> {
      AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(channel);
      admin.withDeadlineAfter(5, TimeUnit.MINUTES).watchJob(GetJobRequest.newBuilder().setJobId(jobId).build())
          .forEachRemaining(e -> { });
      return admin.withDeadlineAfter(30, TimeUnit.SECONDS).getJob(GetJobRequest.newBuilder().setJobId(jobId)
          .build());
    });
  }

  /** Every stored event of the job, from the active coordinator. */
  static List<JobEvent> history(CoordinatorChannels channels, String jobId) {
    return channels.onActive(channel -> {
      List<JobEvent> history = new ArrayList<>();
      AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .watchJob(GetJobRequest.newBuilder().setJobId(jobId).build()).forEachRemaining(history::add);
      return history;
    });
  }

  /** Rounds 1 to {@code rounds} each recorded and completed exactly once, in order. */
  static void assertEveryRoundCountedOnce(int rounds, JobDetail detail, List<JobEvent> history, String context) {
    assertEquals(IntStream.rangeClosed(1, rounds).boxed().toList(),
        detail.getRoundsList().stream().map(RoundRecord::getRound).toList(), context);
    assertEquals(IntStream.rangeClosed(1, rounds).boxed().collect(Collectors.toMap(r -> r, r -> 1L)),
        completions(history), context);
  }

  /** The coordinator's audit log survived every kill intact, and recorded each of the job's rounds once. */
  static void assertAuditedOnce(Path auditFile, String jobId) throws Exception {
    AuditVerifier.Result audit = AuditVerifier.verify(auditFile);
    assertTrue(audit.intact(), audit.describe(auditFile));
    Map<String, Long> auditedRounds = AuditLog.read(auditFile).stream()
        .filter(e -> e.type().equals("ROUND_COMPLETED") && e.detailsJson().contains("\"" + jobId + "\""))
        .collect(Collectors.groupingBy(e -> e.detailsJson().replaceAll(".*\"round\":(\\d+).*", "$1"),
            Collectors.counting()));
    assertTrue(!auditedRounds.isEmpty() && auditedRounds.values().stream().allMatch(n -> n == 1),
        "audited twice: " + auditedRounds);
  }

  /** How many times each round was announced completed, by round. */
  static Map<Integer, Long> completions(List<JobEvent> history) {
    return history.stream().filter(e -> e.getPhase().equals("ROUND_COMPLETED"))
        .collect(Collectors.groupingBy(JobEvent::getRound, TreeMap::new, Collectors.counting()));
  }

  /**
   * An auto-approving in-JVM agent of {@code dataset}, presenting {@code kit} over {@code channel} to
   * the coordinator process and keeping its state in {@code stateDir}; started and connected.
   */
  static NodeAgent agent(CoordinatorProcess coordinator, String nodeId, LocalDataset dataset, LocalTrainer trainer,
      TlsFiles kit, ManagedChannel channel, Path stateDir) {
    NodeAgent agent = new NodeAgent(Federation.agentConfig(nodeId, dataset, coordinator.port, stateDir, true, kit),
        channel, List.of(dataset), trainer);
    agent.start();
    agent.connected().orTimeout(30, TimeUnit.SECONDS).join();
    return agent;
  }

  /**
   * Round {@code round}'s checkpoint of the job, read as a resume reads it: checked against the
   * SHA-256 the coordinator's SQLite database recorded for the round.
   */
  static CheckpointStore.Checkpoint checkpoint(CoordinatorProcess coordinator, String jobId, int round)
      throws Exception {
    return checkpoint(coordinator.dataDir, jobId, round);
  }

  /** The same for a coordinator whose data directory (SQLite store) is {@code dataDir}. */
  static CheckpointStore.Checkpoint checkpoint(Path dataDir, String jobId, int round) throws Exception {
    String sha256;
    try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("medfed.db"));
        PreparedStatement query = db.prepareStatement(
            "SELECT checkpoint_sha256 FROM rounds WHERE job_id = ? AND round = ?")) {
      query.setString(1, jobId);
      query.setInt(2, round);
      try (ResultSet row = query.executeQuery()) {
        assertTrue(row.next(), "no round " + round + " of job " + jobId + " in the database");
        sha256 = row.getString(1);
      }
    }
    return new CheckpointStore(dataDir.resolve("jobs")).readVerified(jobId, round, sha256);
  }
}
