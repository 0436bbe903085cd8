package org.medfed.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.job.JobEvent;
import org.medfed.coordinator.job.JobStatus;

/**
 * The store's lease on the real SQLite store, each coordinator with its own connection as two
 * processes would have: one holder at a time, and a holder that lost the lease writes nothing.
 */
class LeaseTest {
  private static final Duration TTL = Duration.ofSeconds(10);
  private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");

  @TempDir Path dir;
  private final TestClock clock = new TestClock();
  private final List<String> lostByFirst = new ArrayList<>();

  @Test
  void aSecondCoordinator_cannotTakeAHeldLease_andLearnsWhoHoldsIt() throws Exception {
    try (Database first = open(); Database second = open()) {
      Lease a = new Lease(first, "coordinator 'a' on host-a:7443 (pid 1)", TTL, clock, lostByFirst::add);
      Lease b = new Lease(second, "coordinator 'b' on host-b:7444 (pid 2)", TTL, clock, why -> { });

      assertEquals(new Lease.Attempt.Acquired(1), a.tryAcquire(false));
      clock.advance(TTL.minusMillis(1));
      Lease.Attempt refused = b.tryAcquire(false);

      Lease.Attempt.HeldElsewhere held = assertInstanceOf(Lease.Attempt.HeldElsewhere.class, refused);
      assertEquals("coordinator 'a' on host-a:7443 (pid 1)", held.current().holder());
      assertEquals(1, held.current().token());
      assertEquals(Optional.empty(), b.token());
    }
  }

  @Test
  void aHolderSupersededAfterItsLeaseExpired_cannotWriteState_andTheMessageNamesTheNewHolder() throws Exception {
    try (Database first = open(); Database second = open()) {
      Lease a = new Lease(first, "coordinator 'a' on host-a:7443 (pid 1)", TTL, clock, lostByFirst::add);
      Lease b = new Lease(second, "coordinator 'b' on host-b:7444 (pid 2)", TTL, clock, why -> { });
      a.tryAcquire(false);
      new JobStore(first).insert("job-1", "job", "{}", "d".repeat(64), "alice", T0);

      // a is paused past its TTL; b takes over with a higher token.
      clock.advance(TTL.plusSeconds(1));
      assertEquals(new Lease.Attempt.Acquired(2), b.tryAcquire(false));
      LeaseLostException refused = assertThrows(LeaseLostException.class, () -> new JobStore(first).recorded(
          new JobEvent("job-1", T0, 1, "TRAIN", "round 1 TRAIN", Map.of(), JobStatus.RUNNING)));

      assertEquals("cannot record the TRAIN step of job job-1: this coordinator (coordinator 'a' on host-a:7443"
          + " (pid 1)) lost the store's lease (its token 1) to coordinator 'b' on host-b:7444 (pid 2), token 2,"
          + " until 2026-12-02T10:00:21Z; it must stop driving jobs: only the holder may write", refused.getMessage());
      assertEquals(List.of(refused.getMessage().substring("cannot record the TRAIN step of job job-1: ".length())),
          lostByFirst, "the coordinator is told once, to stop driving");
      assertEquals(List.of(), phases(second, "job-1"), "nothing of the refused write was stored");
      new JobStore(second).recorded(new JobEvent("job-1", T0, 1, "TRAIN", "round 1 TRAIN by b", Map.of(),
          JobStatus.RUNNING));
      assertEquals(List.of("TRAIN"), phases(second, "job-1"));
      assertFalse(a.renew(), "a superseded lease cannot be renewed");
    }
  }

  @Test
  void aHolderWhoseLeaseLapsed_cannotWrite_evenBeforeAnotherTakesOver() throws Exception {
    try (Database first = open()) {
      Lease a = new Lease(first, "coordinator 'a' on host-a:7443 (pid 1)", TTL, clock, lostByFirst::add);
      a.tryAcquire(false);
      clock.advance(TTL);

      LeaseLostException refused = assertThrows(LeaseLostException.class,
          () -> new JobStore(first).insert("job-1", "job", "{}", "d".repeat(64), "alice", T0));

      assertTrue(refused.getMessage().startsWith("cannot record job job-1: this coordinator (coordinator 'a' on"
          + " host-a:7443 (pid 1)) lost the store's lease (its token 1): it expired at 2026-12-02T10:00:10Z before"
          + " this coordinator renewed it"), refused.getMessage());
      assertEquals(1, lostByFirst.size());
    }
  }

  @Test
  void aRenewedLease_outlivesItsFirstTtl() throws Exception {
    try (Database first = open(); Database second = open()) {
      Lease a = new Lease(first, "a", TTL, clock, lostByFirst::add);
      Lease b = new Lease(second, "b", TTL, clock, why -> { });
      a.tryAcquire(false);
      clock.advance(TTL.dividedBy(3));
      assertTrue(a.renew());
      clock.advance(TTL.dividedBy(3).multipliedBy(2).plusMillis(1));

      assertInstanceOf(Lease.Attempt.HeldElsewhere.class, b.tryAcquire(false));
      new JobStore(first).insert("job-1", "job", "{}", "d".repeat(64), "alice", T0);
      assertEquals(List.of(), lostByFirst);
    }
  }

  @Test
  void aReleasedLease_isTakenAtOnce_withTheNextToken() throws Exception {
    try (Database first = open(); Database second = open()) {
      Lease a = new Lease(first, "a", TTL, clock, lostByFirst::add);
      Lease b = new Lease(second, "b", TTL, clock, why -> { });
      a.tryAcquire(false);
      a.release();

      assertEquals(new Lease.Attempt.Acquired(2), b.tryAcquire(false));
      assertThrows(LeaseLostException.class, () -> new JobStore(first).insert("job-1", "job", "{}", "d".repeat(64),
          "alice", T0));
    }
  }

  @Test
  void theOwnerOfTheStoreLock_takesTheLeaseFromADeadHolderWithoutWaitingForItToExpire() throws Exception {
    Path lockFile = StoreLock.fileFor(Database.Settings.embedded(dir)).orElseThrow();
    try (Database first = open(); Database second = open()) {
      new Lease(first, "a", TTL, clock, lostByFirst::add).tryAcquire(false);
      try (StoreLock lock = StoreLock.tryLock(lockFile).orElseThrow()) {
        assertEquals(Optional.empty(), StoreLock.tryLock(lockFile), "one owner at a time");

        assertEquals(new Lease.Attempt.Acquired(2), new Lease(second, "b", TTL, clock, why -> { }).tryAcquire(true));
      }
      assertTrue(StoreLock.tryLock(lockFile).isPresent(), "released with its owner");
    }
  }

  @Test
  void aStoreOfSchemaVersion1_isUpgradedInPlace_withAFreeLease() throws Exception {
    try (Database db = open()) {
      db.inTransaction(c -> {
        c.createStatement().execute("DROP TABLE coordinator_lease");
        return c.createStatement().executeUpdate("UPDATE schema_version SET version = 1");
      });
    }
    try (Database db = open()) {
      int version = db.inTransaction(c -> {
        try (ResultSet row = c.createStatement().executeQuery("SELECT version FROM schema_version")) {
          row.next();
          return row.getInt(1);
        }
      });
      assertEquals(Database.SCHEMA_VERSION, version);
      assertEquals(new Lease.Attempt.Acquired(1), new Lease(db, "a", TTL, clock, why -> { }).tryAcquire(false));
    }
  }

  private Database open() throws Exception {
    return Database.open(Database.Settings.embedded(dir));
  }

  private static List<String> phases(Database db, String jobId) throws Exception {
    return new JobStore(db).loadAll().stream().filter(j -> j.id().equals(jobId)).findFirst().orElseThrow().events()
        .stream().map(JobEvent::phase).toList();
  }

  /** A clock the test moves: the lease's expiry without waiting for it. */
  private static final class TestClock extends Clock {
    private Instant now = T0;

    void advance(Duration by) {
      now = now.plus(by);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
