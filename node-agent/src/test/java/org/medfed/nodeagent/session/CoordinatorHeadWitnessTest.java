package org.medfed.nodeagent.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.proto.v1.AuditHead;
import org.medfed.trust.audit.AuditLog;
import org.medfed.trust.audit.WitnessCheck;

class CoordinatorHeadWitnessTest {
  @TempDir Path dir;

  @Test
  void witness_recordsEachNewHeadOnce_evenAcrossARestart() throws IOException {
    Path file = dir.resolve("audit.log");
    try (AuditLog audit = AuditLog.open(file, Clock.systemUTC())) {
      CoordinatorHeadWitness witness = new CoordinatorHeadWitness(audit);
      witness.witness(head(7, "a7"), "job-1", 1);
      witness.witness(head(7, "a7"), "job-1", 1);
      witness.witness(AuditHead.getDefaultInstance(), "job-1", 1);
      witness.witness(head(12, "b12"), "job-1", 2);
    }
    try (AuditLog audit = AuditLog.open(file, Clock.systemUTC())) {
      new CoordinatorHeadWitness(audit).witness(head(12, "b12"), "job-1", 2);
    }

    List<Long> witnessed = AuditLog.read(file).stream().flatMap(e -> WitnessCheck.witnessedHead(e).stream())
        .map(AuditLog.Head::seq).toList();
    assertEquals(List.of(7L, 12L), witnessed);
  }

  private static AuditHead head(long seq, String hash) {
    return AuditHead.newBuilder().setSeq(seq).setHash(hash).build();
  }
}
