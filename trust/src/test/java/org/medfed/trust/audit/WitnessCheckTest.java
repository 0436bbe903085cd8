package org.medfed.trust.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WitnessCheckTest {
  @TempDir Path dir;
  Path coordinator;
  Path hospital;

  /** 30 coordinator records; the hospital witnessed the head after records 10, 20 and 30. */
  @BeforeEach
  void aCoordinatorAndOneWitness() throws IOException {
    coordinator = dir.resolve("coordinator-audit.log");
    hospital = dir.resolve("hospital-a-audit.log");
    try (AuditLog log = AuditLog.open(coordinator, Clock.systemUTC());
        AuditLog witness = AuditLog.open(hospital, Clock.systemUTC())) {
      witness.append("AGENT_STARTED", Map.of("node", "hospital-a"));
      for (int round = 1; round <= 3; round++) {
        for (int i = 0; i < 10; i++) {
          log.append("ROUND_PROGRESS", Map.of("job", "job-1", "round", round, "step", i));
        }
        witness.append(WitnessCheck.RECORD_TYPE, WitnessCheck.details(log.head(), "job-1", round));
      }
    }
  }

  @Test
  void check_intactLog_everyWitnessedHeadMatches() throws IOException {
    WitnessCheck.Report report = WitnessCheck.check(coordinator, List.of(hospital));

    assertTrue(report.agrees(), report.findings().toString());
    assertEquals(3, report.matched());
  }

  @Test
  void check_logCutBackByTenRecords_reportsTheCutNamingTheHospital() throws IOException {
    keepFirstLines(coordinator, 20);
    assertTrue(AuditVerifier.verify(coordinator).intact(), "a cut-back chain still verifies on its own");

    WitnessCheck.Report report = WitnessCheck.check(coordinator, List.of(hospital));

    assertFalse(report.agrees());
    assertEquals(2, report.matched());
    assertEquals(1, report.findings().size());
    String finding = report.findings().get(0);
    assertTrue(finding.startsWith("the log ends at record 20 but hospital 'hospital-a''s log witnessed record 30"),
        finding);
    assertTrue(finding.endsWith("records were cut from the end"), finding);
  }

  @Test
  void check_logRewrittenFromRecordFifteen_reportsTheRewrittenRecords() throws IOException {
    keepFirstLines(coordinator, 14);
    try (AuditLog log = AuditLog.open(coordinator, Clock.systemUTC())) {
      for (int i = 15; i <= 30; i++) {
        log.append("ROUND_PROGRESS", Map.of("job", "job-1", "rewritten", i));
      }
    }
    assertTrue(AuditVerifier.verify(coordinator).intact(), "a chain rewritten from a point on verifies on its own");

    WitnessCheck.Report report = WitnessCheck.check(coordinator, List.of(hospital));

    assertEquals(1, report.matched());
    assertEquals(2, report.findings().size(), report.findings().toString());
    assertTrue(report.findings().get(0).startsWith("record 20 differs from what hospital 'hospital-a' witnessed"),
        report.findings().get(0));
    assertTrue(report.findings().get(1).startsWith("record 30 differs"), report.findings().get(1));
  }

  @Test
  void check_witnessLogItselfEdited_isReportedAndNotUsed() throws IOException {
    List<String> lines = Files.readAllLines(hospital, StandardCharsets.UTF_8);
    lines.set(2, lines.get(2).replace("\"round\":2", "\"round\":7"));
    Files.write(hospital, lines, StandardCharsets.UTF_8);

    WitnessCheck.Report report = WitnessCheck.check(coordinator, List.of(hospital));

    assertEquals(0, report.matched());
    assertTrue(report.findings().get(0).startsWith("witness log " + hospital + ": BROKEN at line 3"),
        report.findings().get(0));
  }

  private static void keepFirstLines(Path file, int count) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    Files.write(file, lines.subList(0, count), StandardCharsets.UTF_8);
  }
}
