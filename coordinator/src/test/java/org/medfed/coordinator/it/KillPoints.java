package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.RoundRecord;
import org.medfed.trust.audit.AuditLog;
import org.medfed.trust.audit.AuditVerifier;
import org.medfed.trust.tls.CoordinatorChannels;

/**
 * Where the crash tests kill a coordinator process, and how they follow its job across the kills:
 * on the admin channels of one coordinator that restarts ({@code CrashResumeTest}) or of an active
 * coordinator and its standby that takes over ({@code FailoverEndToEndTest}).
 */
final class KillPoints {
  private KillPoints() {}

  /**
   * A SIGKILL (or, if {@code graceful}, a SIGTERM) as soon as (plus {@code delayMillis}) the job
   * enters {@code phase} in round {@code round} or later.
   */
  record KillPoint(String phase, long delayMillis, int round, boolean graceful) {}

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
    Map<Integer, Long> completions = history.stream().filter(e -> e.getPhase().equals("ROUND_COMPLETED"))
        .collect(Collectors.groupingBy(JobEvent::getRound, TreeMap::new, Collectors.counting()));
    assertEquals(IntStream.rangeClosed(1, rounds).boxed().collect(Collectors.toMap(r -> r, r -> 1L)), completions,
        context);
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
}
