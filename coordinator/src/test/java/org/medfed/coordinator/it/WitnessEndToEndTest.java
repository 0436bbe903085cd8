package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.proto.v1.JobState;
import org.medfed.trust.audit.AuditLog;
import org.medfed.trust.audit.AuditVerifier;
import org.medfed.trust.audit.WitnessCheck;

/**
 * Hospitals witness the coordinator's audit head on every task, and `medfed audit verify --witness`
 * catches a coordinator log whose tail was cut off, which its own chain cannot show.
 */
class WitnessEndToEndTest {
  @TempDir Path dir;

  @Test
  void aCoordinatorLogCutBackPastAWitnessedHead_failsVerificationNamingTheHospital() throws Exception {
    Path log;
    Path witnessA;
    Path witnessB;
    try (Federation federation = new Federation(dir.resolve("coordinator"))) {
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 60, 20, 20));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, 60, 20, 20));
      String jobId = federation.submit(FederatedTrainingTest.JOB.replace("rounds: 4", "rounds: 2")
          .replace("min_nodes: 3", "min_nodes: 2")).getJobId();
      federation.watch(jobId, Duration.ofMinutes(2));
      assertEquals(JobState.SUCCEEDED, federation.job(jobId).getSummary().getState());
      log = federation.coordinator.auditLog();
      witnessA = federation.stateDir("hospital-a").resolve("audit.log");
      witnessB = federation.stateDir("hospital-b").resolve("audit.log");
    }

    CliRun intact = CliRun.of("audit", "verify", log.toString(), "--witness", witnessA.toString(),
        "--witness", witnessB.toString());
    assertEquals(0, intact.code(), intact.out());
    assertTrue(intact.out().contains("heads witnessed by 2 hospital log(s) match " + log), intact.out());

    // A short job's log holds about ten records: cut it back to just before hospital-a's newest witnessed head.
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    long newestWitnessed = AuditLog.read(witnessA).stream().flatMap(e -> WitnessCheck.witnessedHead(e).stream())
        .mapToLong(AuditLog.Head::seq).max().orElseThrow();
    int kept = (int) newestWitnessed - 1;
    Files.write(log, lines.subList(0, kept), StandardCharsets.UTF_8);
    assertTrue(AuditVerifier.verify(log).intact(), "the cut-back log still verifies on its own");

    CliRun cut = CliRun.of("audit", "verify", log.toString(), "--witness", witnessA.toString(),
        "--witness", witnessB.toString());
    assertEquals(5, cut.code(), cut.out());
    assertTrue(cut.out().contains("MISMATCH: the log ends at record " + kept + " but hospital 'hospital-a''s log"
        + " witnessed record " + newestWitnessed), cut.out());
    assertTrue(cut.out().contains("records were cut from the end"), cut.out());
  }
}
