package org.medfed.coordinator.it;

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
import org.medfed.coordinator.store.CheckpointStore;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.trust.tls.TlsFiles;

/**
 * Stops a {@link CoordinatorProcess} at chosen stages of a running job and starts it again on the
 * same data folder, as a crash and a service manager would, for the crash-resume tests to share.
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
  static List<String> run(CoordinatorProcess coordinator, AdminServiceGrpc.AdminServiceBlockingStub admin,
      String jobId, List<KillPoint> plan, Duration giveUp) throws Exception {
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

  /** Follows the job (reconnecting while the coordinator starts) until it enters {@code point}'s phase. */
  private static JobEvent awaitPhase(AdminServiceGrpc.AdminServiceBlockingStub admin, String jobId, KillPoint point,
      long sinceMillis) {
    while (true) {
      try {
        Iterator<JobEvent> events = admin.withDeadlineAfter(120, TimeUnit.SECONDS)
            .watchJob(GetJobRequest.newBuilder().setJobId(jobId).build());
        while (events.hasNext()) {
          JobEvent event = events.next();
          // History replayed after a restart is what the killed process did, not what this one does.
          if (event.getAtUnixMillis() >= sinceMillis && event.getPhase().equals(point.phase())
              && event.getRound() >= point.round()) {
            return event;
          }
          if (Federation.ended(event.getState())) {
            throw new AssertionError("job ended before reaching " + point + ": " + event.getMessage());
          }
        }
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE) {
          throw e;
        }
      }
    }
  }

  /** Follows the job until it ends; returns its record. */
  static JobDetail awaitEnd(AdminServiceGrpc.AdminServiceBlockingStub admin, String jobId) {
    admin.withDeadlineAfter(5, TimeUnit.MINUTES).watchJob(GetJobRequest.newBuilder().setJobId(jobId).build())
        .forEachRemaining(e -> { });
    return admin.withDeadlineAfter(30, TimeUnit.SECONDS).getJob(GetJobRequest.newBuilder().setJobId(jobId).build());
  }

  /** The job's whole event history, as the coordinator now replays it. */
  static List<JobEvent> history(AdminServiceGrpc.AdminServiceBlockingStub admin, String jobId) {
    List<JobEvent> history = new ArrayList<>();
    admin.withDeadlineAfter(30, TimeUnit.SECONDS).watchJob(GetJobRequest.newBuilder().setJobId(jobId).build())
        .forEachRemaining(history::add);
    return history;
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
    String sha256;
    try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + coordinator.dataDir.resolve("medfed.db"));
        PreparedStatement query = db.prepareStatement(
            "SELECT checkpoint_sha256 FROM rounds WHERE job_id = ? AND round = ?")) {
      query.setString(1, jobId);
      query.setInt(2, round);
      try (ResultSet row = query.executeQuery()) {
        assertTrue(row.next(), "no round " + round + " of job " + jobId + " in the database");
        sha256 = row.getString(1);
      }
    }
    return new CheckpointStore(coordinator.dataDir.resolve("jobs")).readVerified(jobId, round, sha256);
  }
}
