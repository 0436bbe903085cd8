package org.medfed.trust.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
  @TempDir Path dir;
  Path file;

  @BeforeEach
  void fiveRecords() throws IOException {
    file = dir.resolve("audit.log");
    try (AuditLog log = AuditLog.open(file, Clock.systemUTC())) {
      log.append("JOB_SUBMITTED", Map.of("job", "job-1", "digest", "ab12", "by", "alice"));
      log.append("JOB_APPROVED", Map.of("job", "job-1", "node", "hospital-a"));
      log.append("JOB_REFUSED", Map.of("job", "job-1", "node", "hospital-b", "reason", "digest not approved"));
    }
    // Reopening continues the same chain.
    try (AuditLog log = AuditLog.open(file, Clock.systemUTC())) {
      log.append("ROUND_STARTED", Map.of("job", "job-1", "round", 1, "participants", List.of("hospital-a")));
      log.append("ROUND_AGGREGATED", Map.of("job", "job-1", "round", 1, "aggregate_sha256", "cd34"));
    }
  }

  @Test
  void anInterruptedWriter_doesNotSilenceTheLogForEveryoneElse() throws Exception {
    Path other = dir.resolve("interrupted.log");
    try (AuditLog log = AuditLog.open(other, Clock.systemUTC())) {
      Thread writer = new Thread(() -> {
        Thread.currentThread().interrupt();
        log.append("WHILE_INTERRUPTED", Map.of("n", 1));
      });
      writer.start();
      writer.join();
      log.append("AFTERWARDS", Map.of("n", 2));
    }
    AuditVerifier.Result result = AuditVerifier.verify(other);
    assertTrue(result.intact(), result.describe(other));
    assertEquals(2, result.records());
  }

  @Test
  void anUntouchedLog_verifies() throws IOException {
    AuditVerifier.Result result = AuditVerifier.verify(file);
    assertTrue(result.intact());
    assertEquals(5, result.records());
  }

  @Test
  void editingARecord_isDetectedAtThatRecord() throws IOException {
    List<String> lines = Files.readAllLines(file);
    lines.set(2, lines.get(2).replace("digest not approved", "approved"));
    Files.write(file, lines);

    AuditVerifier.Broken broken = AuditVerifier.verify(file).broken().orElseThrow();
    assertEquals(3, broken.line());
    assertTrue(broken.reason().contains("edited"), broken.reason());
  }

  @Test
  void deletingARecord_isDetectedWhereTheGapIs() throws IOException {
    List<String> lines = new ArrayList<>(Files.readAllLines(file));
    lines.remove(1);
    Files.write(file, lines);

    AuditVerifier.Broken broken = AuditVerifier.verify(file).broken().orElseThrow();
    assertEquals(2, broken.line());
    assertTrue(broken.reason().contains("deleted"), broken.reason());
  }

  @Test
  void swappingTwoRecords_isDetectedAtTheFirstOfThem() throws IOException {
    List<String> lines = new ArrayList<>(Files.readAllLines(file));
    Collections.swap(lines, 2, 3);
    Files.write(file, lines);

    AuditVerifier.Broken broken = AuditVerifier.verify(file).broken().orElseThrow();
    assertEquals(3, broken.line());
  }

  @Test
  void aBrokenLog_isNotAppendedTo() throws IOException {
    List<String> lines = new ArrayList<>(Files.readAllLines(file));
    lines.set(0, lines.get(0).replace("alice", "mallory"));
    Files.write(file, lines);

    IOException e = assertThrows(IOException.class, () -> AuditLog.open(file, Clock.systemUTC()));
    assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    assertFalse(AuditVerifier.verify(file).intact());
  }
}
