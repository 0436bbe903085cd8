package org.medfed.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.strategy.StrategyState;
import org.medfed.trust.audit.AuditLog;
import org.medfed.trust.audit.AuditVerifier;

/**
 * A file system that is really full. Runs only when {@code MEDFED_TMPFS} names an empty folder on
 * a small file system of its own, as root can make one:
 * {@code mount -t tmpfs -o size=3m tmpfs DIR; MEDFED_TMPFS=DIR mvn ... -Dtest=RealFullDiskTest}.
 */
class RealFullDiskTest {
  @TempDir Path elsewhere;

  @Test
  void checkpointTooBigForTheDisk_isDiagnosedWithTheRealFreeSpace_andTheAuditChainSurvivesAFailedAppend()
      throws Exception {
    String tmpfs = System.getenv("MEDFED_TMPFS");
    assumeTrue(tmpfs != null, "set MEDFED_TMPFS to a small mounted file system to run this test");
    Path disk = Path.of(tmpfs);
    long size = Files.getFileStore(disk).getTotalSpace();
    assumeTrue(size < 64L << 20, "MEDFED_TMPFS must be a small file system, not " + size + " bytes");

    CheckpointStore checkpoints = new CheckpointStore(disk.resolve("jobs"));
    GlobalModel model = new GlobalModel("{}", new float[(int) (size / Float.BYTES) + 1000]);
    UncheckedIOException refused = assertThrows(UncheckedIOException.class,
        () -> checkpoints.write("job-1", 1, model, Map.of(), StrategyState.NONE));
    try (Database db = Database.open(Database.Settings.embedded(elsewhere));
        AuditLog log = AuditLog.open(disk.resolve("audit.log"), Clock.systemUTC())) {
      StorageMonitor monitor = new StorageMonitor(checkpoints, db, new AuditMirror(db), Clock.systemUTC(),
          Duration.ofSeconds(1), Duration.ofSeconds(2));
      StorageProblem problem = monitor.diagnose(refused, CheckpointStore.roomForRound(model)).orElseThrow();

      assertEquals("No space left on device", problem.cause(), problem.describe());
      assertTrue(problem.usableBytes().orElseThrow() < problem.neededBytes(), problem.describe());
      monitor.report(problem);
      StorageProblem stillShort = monitor.probeNow().orElseThrow(() -> new AssertionError(
          "the small probe write fits, but the disk has less room than a round needs"));
      assertEquals("too little free space", stillShort.cause());

      // Leave less room than one record: the append fails part-way and must leave no half line.
      log.append("BEFORE", Map.of("n", 1));
      Path filler = disk.resolve("filler");
      assertEquals(false, Files.exists(disk.resolve("jobs").resolve("job-1").resolve(".staging-1")),
          "the half-written checkpoint is removed, giving its space back");
      Files.write(filler, new byte[(int) Math.max(0, Files.getFileStore(disk).getUsableSpace() - 2048)]);
      assertThrows(IllegalStateException.class, () -> log.append("TOO_BIG", Map.of("text", "x".repeat(8192))));
      Files.delete(filler);
      log.append("AFTER", Map.of("n", 2));

      AuditVerifier.Result verified = AuditVerifier.verify(log.file());
      assertEquals(Optional.empty(), verified.broken());
      assertEquals(2, verified.records());
      monitor.close();
      try (StorageMonitor small = new StorageMonitor(checkpoints, db, new AuditMirror(db), Clock.systemUTC(),
          Duration.ofSeconds(1), Duration.ofSeconds(2))) {
        assertEquals(Optional.empty(), small.probeNow(), "a job with a small model finds room again");
      }
    }
  }
}
