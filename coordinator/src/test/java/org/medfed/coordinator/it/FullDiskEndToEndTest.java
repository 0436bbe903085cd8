package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.Coordinator;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.coordinator.cli.MedfedCli;
import org.medfed.coordinator.store.DataFiles;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.JobSummary;
import org.medfed.trust.audit.AuditLog;
import org.medfed.trust.audit.AuditVerifier;

/**
 * The coordinator's disk fills up mid-job (issue 15, item 5): the job pauses and says where and
 * how much room it needs, goes on by itself from its last checkpoint once there is room, counts
 * each round once, and every watcher of an ended job gets its final state at once. The disk is a
 * {@link DataFiles} that refuses writes as a full one does ("No space left on device") from the
 * third checkpoint until the test frees it.
 */
class FullDiskEndToEndTest {
  static final String JOB = """
      name: full-disk
      dataset: expression
      model: {architecture: mlp, hidden: [8]}
      input_shape: [20]
      num_classes: 3
      rounds: %d
      min_nodes: %d
      local_epochs: 1
      batch_size: 16
      learning_rate: 0.01
      secure_aggregation: false   # storage is what is tested; CrashResumeTest resumes secure rounds
      deadlines: {selection: %ds, training: 60s, evaluation: 30s}
      """;

  @TempDir Path dataDir;

  /** Takes {@code checkpoints} round checkpoints, then refuses every write until {@link #free}. */
  static final class FillingDisk implements DataFiles {
    private final int checkpoints;
    private final AtomicInteger written = new AtomicInteger();
    private volatile boolean full;
    private volatile boolean freed;

    FillingDisk(int checkpoints) {
      this.checkpoints = checkpoints;
    }

    @Override
    public void write(Path file, byte[] bytes) throws IOException {
      boolean params = file.getFileName().toString().equals("params.f32");
      if (!freed && (full || params && written.get() >= checkpoints)) {
        full = true;
        throw new FileSystemException(file.toString(), null, "No space left on device");
      }
      DataFiles.local().write(file, bytes);
      if (params) {
        written.incrementAndGet();
      }
    }

    void free() {
      freed = true;
    }
  }

  @Test
  void diskFillsMidJob_jobPausesSayingWhereAndHowMuch_thenGoesOnByItselfOnceFreed_eachRoundCountedOnce()
      throws Exception {
    FillingDisk disk = new FillingDisk(2);
    CoordinatorConfig config = CoordinatorConfig.defaults(dataDir).withFiles(disk)
        .withHttp(new InetSocketAddress("127.0.0.1", 0));
    String jobId;
    try (Federation federation = new Federation(dataDir, config)) {
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 60, 40, 20));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, 60, 40, 20));
      jobId = federation.submit(JOB.formatted(4, 2, 30)).getJobId();

      List<JobEvent> events = new ArrayList<>();
      JobDetail whilePaused = null;
      String metricsWhilePaused = null;
      String storageWhilePaused = null;
      Iterator<JobEvent> stream = federation.admin.withDeadlineAfter(4, TimeUnit.MINUTES)
          .watchJob(GetJobRequest.newBuilder().setJobId(jobId).build());
      while (stream.hasNext()) {
        JobEvent event = stream.next();
        events.add(event);
        if (event.getPhase().equals("STORAGE_PAUSED") && whilePaused == null) {
          whilePaused = federation.job(jobId);
          metricsWhilePaused = http(federation, "/metrics");
          storageWhilePaused = http(federation, "/api/storage");
          disk.free();
        }
      }
      JobDetail detail = federation.job(jobId);

      assertNotNull(whilePaused, "the job paused when the disk was full: " + phases(events));
      assertEquals(JobState.RUNNING, whilePaused.getSummary().getState(), "paused, not failed");
      assertEquals(2, whilePaused.getRoundsCount(), "rounds 1 and 2 were checkpointed before the disk filled");
      String why = whilePaused.getSummary().getMessage();
      // ".t1": the checkpoint folders carry the fencing token of the coordinator's lease, its first.
      String refused = dataDir.resolve("jobs").resolve(jobId).resolve(".staging-3.t1").resolve("params.f32").toString();
      assertTrue(why.startsWith("paused, the coordinator cannot write its state: " + refused
          + " cannot be written (No space left on device); "), why);
      assertTrue(why.contains(" free there, the next round needs about 1.0 MiB; free space there"), why);
      assertTrue(why.endsWith("goes on from the checkpoint of round 2"), why);
      assertTrue(metricsWhilePaused.contains("medfed_storage_writable 0.0"), metricsWhilePaused);
      assertTrue(storageWhilePaused.contains("\"writable\":false"), storageWhilePaused);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(List.of(1, 2, 3, 4), detail.getRoundsList().stream().map(r -> r.getRound()).toList());
      assertEquals(List.of(1, 2, 3, 4), events.stream().filter(e -> e.getPhase().equals("ROUND_COMPLETED"))
          .map(JobEvent::getRound).toList(), "each round counted once: " + phases(events));
      assertTrue(events.stream().anyMatch(e -> e.getPhase().equals("RESUMED") && e.getMessage().startsWith(
          "storage takes writes again: resuming at round 3/4 from the checkpoint of round 2")), phases(events));
      assertEquals(JobState.SUCCEEDED, events.get(events.size() - 1).getState());
      assertTrue(http(federation, "/metrics").contains("medfed_storage_writable 1.0"));

      List<JobEvent> again = federation.watch(jobId, Duration.ofSeconds(30));
      assertEquals(JobState.SUCCEEDED, again.get(again.size() - 1).getState(), "a watcher of an ended job returns");
    }
    // Closed, so every record in flight has landed: the file and its database copy agree.
    assertTrue(AuditVerifier.verify(dataDir.resolve("audit.log")).broken().isEmpty());
    assertEquals(AuditLog.read(dataDir.resolve("audit.log")).size(), auditRowsIn(dataDir.resolve("medfed.db")));
  }

  @Test
  void jobPausedOnAFullDisk_isCancelled_andItsWatcherEndsWithCancelled() throws Exception {
    FillingDisk disk = new FillingDisk(0);
    try (Federation federation = new Federation(dataDir, CoordinatorConfig.defaults(dataDir).withFiles(disk))) {
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 60, 40, 20));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, 60, 40, 20));
      String jobId = federation.submit(JOB.formatted(2, 2, 30)).getJobId();
      Iterator<JobEvent> stream = federation.admin.withDeadlineAfter(2, TimeUnit.MINUTES)
          .watchJob(GetJobRequest.newBuilder().setJobId(jobId).build());
      List<JobEvent> events = new ArrayList<>();
      while (stream.hasNext()) {
        JobEvent event = stream.next();
        events.add(event);
        if (event.getPhase().equals("STORAGE_PAUSED")) {
          federation.admin.cancelJob(GetJobRequest.newBuilder().setJobId(jobId).build());
        }
      }

      assertEquals(JobState.CANCELLED, events.get(events.size() - 1).getState(), phases(events));
      assertEquals(JobState.CANCELLED, federation.job(jobId).getSummary().getState());
      assertEquals(0, federation.job(jobId).getRoundsCount());
    }
  }

  @Test
  void jobFailedForTooFewHospitals_watchingItReturnsAtOnce_andResumeRunsItToTheEnd() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 60, 40, 20));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, 60, 40, 20));
      String jobId = federation.submit(JOB.formatted(2, 3, 2)).getJobId();
      federation.watch(jobId, Duration.ofMinutes(1));

      List<JobEvent> ended = federation.watch(jobId, Duration.ofSeconds(30));
      assertEquals(JobState.FAILED, ended.get(ended.size() - 1).getState(), "a watcher of a failed job returns");

      federation.agent("hospital-c", Blobs.dataset("expression", 3, 60, 40, 20));
      JobSummary resumed = federation.admin.resumeJob(GetJobRequest.newBuilder().setJobId(jobId).build());
      List<JobEvent> events = federation.watch(jobId, Duration.ofMinutes(3));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.RUNNING, resumed.getState());
      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(List.of(1, 2), detail.getRoundsList().stream().map(r -> r.getRound()).toList());
      assertTrue(events.stream().anyMatch(e -> e.getPhase().equals("RESUMED") && e.getMessage().startsWith(
          "resumed by admin after it failed (round 1: ")), phases(events));
      StatusRuntimeException again = assertThrows(StatusRuntimeException.class,
          () -> federation.admin.resumeJob(GetJobRequest.newBuilder().setJobId(jobId).build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, again.getStatus().getCode());
      assertEquals("job '" + jobId + "' ended as SUCCEEDED and is not resumed; submit the job document again for a"
          + " new run", again.getStatus().getDescription());
      StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
          () -> federation.admin.resumeJob(GetJobRequest.newBuilder().setJobId("nope").build()));
      assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
    }
  }

  @Test
  void cliWatchOfAnEndedJob_exitsAtOnceWithItsCode_andCliResumeRunsItAgain() throws Exception {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
    try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.defaults(dataDir), builder)) {
      String address = "127.0.0.1:" + coordinator.port();
      String jobId = coordinator.jobs().submit(org.medfed.coordinator.job.JobSpecParser.parse(JOB.formatted(1, 1, 1)),
          "test").id();
      coordinator.jobs().find(jobId).orElseThrow().finished().get(1, TimeUnit.MINUTES);

      int watched = cli("watch", "--insecure-plaintext", "--coordinator", address, jobId);
      int resumed = cli("resume", "--insecure-plaintext", "--coordinator", address, jobId);
      int watchedAgain = cli("watch", "--insecure-plaintext", "--coordinator", address, jobId);
      int missing = cli("resume", "--insecure-plaintext", "--coordinator", address, "no-such-job");

      assertEquals(1, watched, "exit code 1: the job failed (no hospital came)");
      assertEquals(0, resumed);
      assertEquals(1, watchedAgain, "resumed, it fails again for the same reason, and watch says so");
      assertEquals(2, missing);
    }
  }

  /** A CLI run, bounded: a watch that hangs fails the test instead of stalling it. */
  private static int cli(String... args) throws Exception {
    return CompletableFuture.supplyAsync(() -> MedfedCli.run(args)).get(2, TimeUnit.MINUTES);
  }

  private static String http(Federation federation, String path) throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    return client.send(HttpRequest.newBuilder(URI.create("http://" + federation.coordinator.httpAddress().orElseThrow()
        + path)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static long auditRowsIn(Path database) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + database);
        ResultSet rows = c.createStatement().executeQuery("SELECT COUNT(*) FROM audit_records")) {
      rows.next();
      return rows.getLong(1);
    }
  }

  private static String phases(List<JobEvent> events) {
    return events.stream().map(e -> e.getRound() + ":" + e.getPhase()).toList().toString();
  }
}
