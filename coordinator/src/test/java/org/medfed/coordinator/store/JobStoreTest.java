package org.medfed.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.job.JobEvent;
import org.medfed.coordinator.job.JobStatus;
import org.medfed.coordinator.job.RoundRecord;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.strategy.Aggregate;
import org.medfed.coordinator.strategy.FedAvgM;
import org.medfed.coordinator.strategy.RoundUpdate;
import org.medfed.coordinator.strategy.StrategyState;
import org.medfed.trust.audit.AuditLog;

/** The coordinator's state on the embedded SQLite store: what a restarted coordinator reads back. */
class JobStoreTest {
  @TempDir Path dir;

  @Test
  void jobsStepsAndRounds_surviveReopening_andARoundCountsOnce() throws Exception {
    Instant t = Instant.parse("2026-11-24T10:00:00Z");
    RoundRecord round1 = new RoundRecord(1, List.of("a", "b"), Map.of("c", "deadline"), Map.of("eval_accuracy", 0.75),
        Duration.ofMillis(1234), "ab".repeat(32));
    try (Database db = Database.open(Database.Settings.embedded(dir))) {
      JobStore store = new JobStore(db);
      store.insert("job-1", "job", "{\"name\":\"job\"}", "d".repeat(64), "alice", t);
      store.recorded(new JobEvent("job-1", t, 0, "STARTED", "started", Map.of(), JobStatus.RUNNING));
      store.recorded(new JobEvent("job-1", t, 1, "TRAIN", "round 1 TRAIN", Map.of(), JobStatus.RUNNING));
      store.roundCompleted(round1, new JobEvent("job-1", t, 1, "ROUND_COMPLETED", "round 1 done",
          Map.of("eval_accuracy", 0.75), JobStatus.RUNNING));
      store.recorded(new JobEvent("job-1", t, 2, "SECAGG_SHARE_KEYS", "round 2 shares", Map.of(), JobStatus.RUNNING));

      StoreException twice = assertThrows(StoreException.class, () -> store.roundCompleted(round1,
          new JobEvent("job-1", t, 1, "ROUND_COMPLETED", "again", Map.of(), JobStatus.RUNNING)));
      assertTrue(twice.getMessage().contains("record round 1 of job job-1"), twice.getMessage());
    }

    try (Database db = Database.open(Database.Settings.embedded(dir))) {
      List<JobStore.StoredJob> jobs = new JobStore(db).loadAll();
      assertEquals(1, jobs.size());
      JobStore.StoredJob job = jobs.get(0);
      assertEquals(JobStatus.RUNNING, job.status());
      assertEquals("SECAGG_SHARE_KEYS", job.currentStage(), "the stage the coordinator was in when it stopped");
      assertEquals(2, job.currentRound());
      assertEquals(List.of(round1), job.rounds());
      assertEquals(List.of("STARTED", "TRAIN", "ROUND_COMPLETED", "SECAGG_SHARE_KEYS"),
          job.events().stream().map(JobEvent::phase).toList(), "the failed duplicate left no event behind");
    }
  }

  @Test
  void eachHospitalsEvaluation_isStoredWithItsRound_andAStoreOfVersion2IsUpgradedWithEmptyOnes() throws Exception {
    Instant t = Instant.parse("2026-12-03T10:00:00Z");
    RoundRecord round1 = new RoundRecord(1, List.of("a", "b"), Map.of(), Map.of("eval_accuracy", 0.7),
        Duration.ofMillis(10), "ab".repeat(32), Map.of("a", Map.of("accuracy", 0.9, "samples", 40.0),
        "b", Map.of("accuracy", 0.5, "samples", 40.0)));
    try (Database db = Database.open(Database.Settings.embedded(dir))) {
      JobStore store = new JobStore(db);
      store.insert("job-1", "job", "{\"name\":\"job\"}", "d".repeat(64), "alice", t);
      store.roundCompleted(round1, new JobEvent("job-1", t, 1, "ROUND_COMPLETED", "round 1 done", Map.of(),
          JobStatus.RUNNING));
    }
    try (Database db = Database.open(Database.Settings.embedded(dir))) {
      assertEquals(List.of(round1), new JobStore(db).loadAll().get(0).rounds());
      // What a coordinator of the previous release left: no column for them.
      db.inTransaction(c -> {
        c.createStatement().execute("ALTER TABLE rounds DROP COLUMN evaluations_json");
        return c.createStatement().executeUpdate("UPDATE schema_version SET version = 2");
      });
    }
    try (Database db = Database.open(Database.Settings.embedded(dir))) {
      RoundRecord upgraded = new JobStore(db).loadAll().get(0).rounds().get(0);
      assertEquals(Map.of(), upgraded.evaluations());
      assertEquals(round1.metrics(), upgraded.metrics());
    }
  }

  @Test
  void aStepForAnUnknownJob_isRefused() throws Exception {
    try (Database db = Database.open(Database.Settings.embedded(dir))) {
      StoreException e = assertThrows(StoreException.class, () -> new JobStore(db).recorded(
          new JobEvent("ghost", Instant.now(), 1, "TRAIN", "x", Map.of(), JobStatus.RUNNING)));
      assertTrue(e.getMessage().contains("ghost"), e.getMessage());
    }
  }

  @Test
  void auditRecords_areCopied_andTheDatabaseCatchesUpOnRecordsACrashKeptFromIt() throws Exception {
    Path file = dir.resolve("audit.log");
    try (AuditLog log = AuditLog.open(file, Clock.systemUTC())) {
      log.append("BEFORE_THE_MIRROR", Map.of("n", 1));
      log.append("BEFORE_THE_MIRROR", Map.of("n", 2));
    }
    try (Database db = Database.open(Database.Settings.embedded(dir));
        AuditLog log = AuditLog.open(file, Clock.systemUTC())) {
      new AuditMirror(db).attach(log);
      log.append("MIRRORED", Map.of("n", 3));
      List<String> types = db.inTransaction(c -> {
        List<String> rows = new ArrayList<>();
        try (ResultSet r = c.createStatement().executeQuery("SELECT type FROM audit_records ORDER BY seq")) {
          while (r.next()) {
            rows.add(r.getString(1));
          }
        }
        return rows;
      });
      assertEquals(List.of("BEFORE_THE_MIRROR", "BEFORE_THE_MIRROR", "MIRRORED"), types);
    }
  }

  @Test
  void aCheckpointThatDiffersFromItsRecordedDigest_isRefusedNamingTheFile() throws Exception {
    CheckpointStore checkpoints = new CheckpointStore(dir.resolve("jobs"));
    GlobalModel model = new GlobalModel("{}", new float[] {1f, 2f, 3f});
    String digest = checkpoints.write("job-1", 1, model, Map.of(), StrategyState.NONE);
    assertArrayEquals(model.parameters(), checkpoints.readVerified("job-1", 1, digest).model().parameters());

    Files.write(dir.resolve("jobs/job-1/round-0001/params.f32"), new byte[12]);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> checkpoints.readVerified("job-1", 1, digest));
    assertTrue(e.getMessage().contains("round-0001") && e.getMessage().contains("restore it from a backup"),
        e.getMessage());
  }

  @Test
  void serverMomentum_isCheckpointed_soAResumedJobStepsExactlyAsAnUninterruptedOne() {
    CheckpointStore checkpoints = new CheckpointStore(dir.resolve("jobs"));
    float[] start = {0f, 0f};
    RoundUpdate update = new RoundUpdate(new float[] {1f, -1f}, 10, 2, Map.of());
    FedAvgM uninterrupted = new FedAvgM(1.0, 0.9);
    float[] afterOne = ((Aggregate.Updated)
        uninterrupted.aggregate(1, start, update)).parameters();
    String digest = checkpoints.write("job-m", 1, new GlobalModel("{}", afterOne), Map.of(), uninterrupted.state());

    FedAvgM resumed = new FedAvgM(1.0, 0.9);
    resumed.restore(checkpoints.readVerified("job-m", 1, digest).strategyState());
    assertArrayEquals(((Aggregate.Updated) uninterrupted.aggregate(2, afterOne,
        update)).parameters(), ((Aggregate.Updated) resumed.aggregate(2, afterOne,
        update)).parameters());
  }
}
