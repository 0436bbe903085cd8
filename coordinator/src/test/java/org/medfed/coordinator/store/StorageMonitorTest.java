package org.medfed.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.job.JobEvent;
import org.medfed.coordinator.job.JobStatus;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.strategy.StrategyState;
import org.medfed.trust.audit.AuditLog;

/**
 * A full store, for real: SQLite's {@code max_page_count} makes the coordinator's own connection
 * answer SQLITE_FULL exactly as a full disk does. The limit belongs to the connection, which the
 * database replaces after such a failure: that is the space being freed.
 */
class StorageMonitorTest {
  @TempDir Path dir;

  @Test
  void databaseFull_isDiagnosedNamingTheFile_andAnAuditRecordItRefusedIsWrittenAgainOnceThereIsRoom()
      throws Exception {
    try (Database db = Database.open(Database.Settings.embedded(dir));
        AuditLog log = AuditLog.open(dir.resolve("audit.log"), Clock.systemUTC())) {
      AuditMirror mirror = new AuditMirror(db);
      mirror.attach(log);
      JobStore store = new JobStore(db);
      store.insert("job-1", "job", "{}", "d".repeat(64), "alice", Instant.now());
      log.append("BEFORE", Map.of("n", 1));
      StorageMonitor monitor = new StorageMonitor(new CheckpointStore(dir.resolve("jobs")), db, mirror,
          Clock.systemUTC(), Duration.ofHours(1), Duration.ofHours(1));
      AtomicInteger writableAgain = new AtomicInteger();
      monitor.onWritable(writableAgain::incrementAndGet);

      pragma(db, "PRAGMA max_page_count = " + pragma(db, "PRAGMA page_count"));
      StoreException refused = fillUp(store);
      Optional<StorageProblem> problem = monitor.diagnose(refused, 5_000_000);
      pragma(db, "PRAGMA max_page_count = " + pragma(db, "PRAGMA page_count"));
      log.append("WHILE_FULL", Map.of("text", "x".repeat(20_000)));

      assertTrue(problem.isPresent(), "SQLITE_FULL is the storage's refusal: " + refused.getMessage());
      assertEquals(dir.resolve("medfed.db").toAbsolutePath().toString(), problem.get().location());
      assertTrue(problem.get().cause().contains("SQLITE_FULL"), problem.get().cause());
      assertTrue(problem.get().usableBytes().isPresent(), "free space of the folder holding the database");
      assertTrue(problem.get().describe().contains("the next round needs about 4.8 MiB"), problem.get().describe());
      assertEquals(1, mirror.waiting(), "the refused audit record waits; it is not dropped");

      monitor.report(problem.get());
      assertEquals(0, writableAgain.get());

      assertEquals(Optional.empty(), monitor.probeNow());
      assertEquals(Optional.empty(), monitor.problem());
      assertEquals(1, writableAgain.get(), "listeners (the job manager) are told once");
      assertEquals(0, mirror.waiting());
      assertEquals(AuditLog.read(log.file()).size(), pragma(db, "SELECT COUNT(*) FROM audit_records"),
          "the database copy holds every record of the file");
      monitor.close();
    }
  }

  @Test
  void checkpointDiskFull_isDiagnosedNamingTheFile_otherErrorsAreNot() {
    CheckpointStore full = new CheckpointStore(dir.resolve("jobs"), (file, bytes) -> {
      throw new IOException("No space left on device");
    });
    GlobalModel model = new GlobalModel("{}", new float[1000]);
    UncheckedIOException refused = assertThrows(UncheckedIOException.class,
        () -> full.write("job-1", 3, model, Map.of(), StrategyState.NONE));
    try (Database db = openQuietly()) {
      StorageMonitor monitor = new StorageMonitor(full, db, new AuditMirror(db), Clock.systemUTC(),
          Duration.ofSeconds(1), Duration.ofSeconds(2));

      StorageProblem problem = monitor.diagnose(refused, CheckpointStore.roomForRound(model)).orElseThrow();

      assertEquals(dir.resolve("jobs").toString(), problem.location());
      assertEquals("No space left on device", problem.cause());
      assertEquals(4002 + (1 << 20), problem.neededBytes(), "the checkpoint plus a margin of at least 1 MiB");
      assertEquals(Optional.empty(), monitor.diagnose(new IllegalStateException("a bug"), 1));
      assertEquals(Optional.empty(),
          monitor.diagnose(new UncheckedIOException(new IOException("connection reset")), 1));
      IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> new StorageMonitor(full, db,
          new AuditMirror(db), Clock.systemUTC(), Duration.ofSeconds(2), Duration.ofSeconds(1)));
      assertEquals("storage probes need 0 < firstProbe (PT2S) <= maxProbe (PT1S)", bad.getMessage());
      monitor.close();
    }
  }

  private Database openQuietly() {
    try {
      return Database.open(Database.Settings.embedded(dir));
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Events with long messages until the store refuses one; bounded, never loops for ever. */
  private static StoreException fillUp(JobStore store) {
    String text = "x".repeat(4000);
    for (int i = 0; i < 10_000; i++) {
      try {
        store.recorded(new JobEvent("job-1", Instant.now(), 1, "TRAIN", text, Map.of(), JobStatus.RUNNING));
      } catch (StoreException e) {
        return e;
      }
    }
    throw new AssertionError("10000 events of 4 kB fitted under max_page_count");
  }

  private static long pragma(Database db, String sql) throws Exception {
    return db.inTransaction(c -> {
      try (Statement statement = c.createStatement()) {
        if (!statement.execute(sql)) {
          return 0L;
        }
        try (ResultSet rows = statement.getResultSet()) {
          return rows.next() ? rows.getLong(1) : 0L;
        }
      }
    });
  }
}
