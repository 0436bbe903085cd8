package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.Coordinator;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.coordinator.store.Database;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.AgentMessage;
import org.medfed.proto.v1.CoordinatorMessage;
import org.medfed.proto.v1.FederationServiceGrpc;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.Hello;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.ListJobsRequest;
import org.medfed.proto.v1.SubmitJobRequest;
import org.medfed.testsupport.PostgresCluster;
import org.medfed.trust.pki.Role;
import org.medfed.trust.tls.TlsFiles;
import org.medfed.wire.ProtocolVersion;

/**
 * Two {@code medfed serve} processes on one store: the second stands by, naming the first, and
 * drives nothing until the first is gone; then it resumes the first one's job as a restarted
 * coordinator would. On SQLite the OS lock hands over as the first process dies; on PostgreSQL the
 * lease's expiry does, and a first coordinator that was only paused finds itself fenced off.
 */
class StandbyTest {
  /** No hospital connects, so the job waits in its first round's selection for the whole test. */
  private static final String JOB = """
      name: waiting
      dataset: expression
      model: {architecture: mlp, hidden: [8]}
      input_shape: [20]
      num_classes: 3
      rounds: 2
      min_nodes: 3
      deadlines: {selection: 600s}
      """;
  private static final Duration TAKE_OVER = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  void sqlite_secondServeStandsByNamingTheFirst_drivesNothing_andResumesTheJobWhenTheFirstIsKilled()
      throws Exception {
    TestPki pki = new TestPki(dir);
    Path shared = dir.resolve("shared-data");
    try (CoordinatorProcess first = new CoordinatorProcess(dir.resolve("first"), pki, shared, List.of());
        CoordinatorProcess second = new CoordinatorProcess(dir.resolve("second"), pki, shared, List.of())) {
      String jobId = standByThenTakeOver(pki, first, second, () -> first.kill());
      assertTrue(second.log().contains("resuming 1 job(s) that were running when the coordinator stopped: ["
          + jobId + "]"), second.log());
    }
  }

  @Test
  void postgres_pausedFirstLosesTheLeaseWhenItExpires_secondTakesOver_andTheFirstCannotWriteAfterwards()
      throws Exception {
    Path bin = PostgresCluster.binariesOrSkip("the PostgreSQL standby test");
    TestPki pki = new TestPki(dir);
    try (PostgresCluster postgres = PostgresCluster.start(bin)) {
      List<String> config = PostgresStores.coordinatorConfig(postgres, 2);
      // Separate data folders, as on two machines: only the database is shared.
      try (CoordinatorProcess first = new CoordinatorProcess(dir.resolve("first"), pki, dir.resolve("first-data"),
          config);
          CoordinatorProcess second = new CoordinatorProcess(dir.resolve("second"), pki, dir.resolve("second-data"),
              config)) {
        String jobId = standByThenTakeOver(pki, first, second, () -> first.signal("STOP"));
        try {
          first.signal("CONT");
        } finally {
          // Its next renewal finds the lease superseded; it stops by itself, telling why.
          int exit = first.awaitExit(TAKE_OVER);
          assertEquals(6, exit, first.log());
        }
        assertTrue(first.log().contains("lost the store's lease (its token 1) to coordinator 'coordinator' on "),
            first.log());
        assertTrue(first.log().contains(":" + second.port + " (pid " + second.pid() + "), token 2"), first.log());
        List<String> phases = phases(PostgresStores.settings(postgres), jobId);
        assertTrue(phases.contains("RESUMED") && !phases.contains("PAUSED"),
            "the second resumed the job and the first one's PAUSED step, on its way out, was fenced off: " + phases);
      }
    }
  }

  @Test
  void inOneJvm_theStandbyShowsInactiveOnMetrics_andBecomesActiveWhenTheFirstCloses() throws Exception {
    CoordinatorConfig config = CoordinatorConfig.defaults(dir.resolve("data"))
        .withHttp(new InetSocketAddress("127.0.0.1", 0)).withLeaseTtl(Duration.ofSeconds(1));
    try (Coordinator second = startAfter(config)) {
      assertFalse(second.isActive());
      assertTrue(metrics(second).contains("medfed_coordinator_active 0.0"), metrics(second));
      assertTrue(metrics(second).contains("medfed_coordinator_info{holder=\"" + second.holder() + "\"} 1"),
          metrics(second));
      IllegalStateException refused = assertThrows(IllegalStateException.class, second::jobs);
      assertTrue(refused.getMessage().startsWith("this coordinator is on standby and drives no jobs: coordinator"
          + " 'medfed-coordinator' on "), refused.getMessage());

      long deadline = System.nanoTime() + TAKE_OVER.toNanos();
      while (!second.isActive()) {
        assertTrue(System.nanoTime() < deadline, "the standby did not take over within " + TAKE_OVER);
        Thread.sleep(50);
      }
      assertTrue(metrics(second).contains("medfed_coordinator_active 1.0"), metrics(second));
      assertEquals(List.of(), second.jobs().list());
      String dashboard = get(second, "/api/coordinator");
      assertTrue(dashboard.contains("\"active\":\"" + second.holder() + ", token 2, until "), dashboard);
    }
  }

  @Test
  void readyz_answers200OnTheActiveCoordinatorOnly_andHealthzAnswersOnBoth() throws Exception {
    CoordinatorConfig config = CoordinatorConfig.defaults(dir.resolve("data"))
        .withHttp(new InetSocketAddress("127.0.0.1", 0));
    try (Coordinator active = Coordinator.start(config, NettyServerBuilder.forAddress(
            new InetSocketAddress("127.0.0.1", 0)));
        Coordinator standby = Coordinator.start(config, NettyServerBuilder.forAddress(
            new InetSocketAddress("127.0.0.1", 0)))) {
      assertTrue(active.isActive());
      assertFalse(standby.isActive());

      HttpResponse<String> ready = response(active, "/readyz");
      HttpResponse<String> notReady = response(standby, "/readyz");

      assertEquals(200, ready.statusCode(), ready.body());
      assertEquals("active: " + active.holder() + "\n", ready.body());
      assertEquals(503, notReady.statusCode(), notReady.body());
      assertTrue(notReady.body().startsWith("standby: " + active.holder() + ", token 1"), notReady.body());
      assertEquals(200, response(standby, "/healthz").statusCode(), "a standby is alive, only not ready");
      assertEquals(200, response(active, "/healthz").statusCode());
    }
  }

  /** Starts a coordinator on {@code config}'s store while another holds it, then closes that one. */
  private static Coordinator startAfter(CoordinatorConfig config) throws Exception {
    try (Coordinator first = Coordinator.start(config, NettyServerBuilder.forAddress(
        new InetSocketAddress("127.0.0.1", 0)))) {
      assertTrue(first.isActive());
      assertTrue(metrics(first).contains("medfed_coordinator_active 1.0"), metrics(first));
      return Coordinator.start(config, NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)));
    }
  }

  @Test
  void adminCommands_skipAnUnreachableAddressAndAStandby_andSayWhatEachAnsweredWhenNoneDrivesTheJobs()
      throws Exception {
    CoordinatorConfig config = CoordinatorConfig.defaults(dir.resolve("data"));
    int unreachable;
    try (ServerSocket socket = new ServerSocket(0)) {
      unreachable = socket.getLocalPort();
    }
    try (Coordinator active = Coordinator.start(config, NettyServerBuilder.forAddress(
        new InetSocketAddress("127.0.0.1", 0)));
        Coordinator standby = Coordinator.start(config, NettyServerBuilder.forAddress(
            new InetSocketAddress("127.0.0.1", 0)))) {
      assertFalse(standby.isActive());

      CliRun jobs = CliRun.of("jobs", "--insecure-plaintext", "--coordinator", "127.0.0.1:" + unreachable
          + ",127.0.0.1:" + standby.port() + ",127.0.0.1:" + active.port());

      assertEquals(0, jobs.code(), jobs.out());
      assertTrue(jobs.out().startsWith("JOB "), jobs.out());

      ByteArrayOutputStream errors = new ByteArrayOutputStream();
      PrintStream console = System.err;
      System.setErr(new PrintStream(errors, true, StandardCharsets.UTF_8));
      CliRun none;
      try {
        none = CliRun.of("jobs", "--insecure-plaintext", "--coordinator", "127.0.0.1:" + unreachable
            + ",127.0.0.1:" + standby.port());
      } finally {
        System.setErr(console);
      }
      String said = errors.toString(StandardCharsets.UTF_8);
      assertEquals(3, none.code(), said);
      assertTrue(said.startsWith("medfed: cannot reach the coordinator (none of the coordinators [127.0.0.1:"
          + unreachable + ", 127.0.0.1:" + standby.port() + "] drives the jobs now: 127.0.0.1:" + unreachable
          + ": UNAVAILABLE ("), said);
      assertTrue(said.contains("; 127.0.0.1:" + standby.port() + ": FAILED_PRECONDITION (this coordinator ("
          + standby.holder() + ") is on standby and drives no jobs: " + active.holder() + ", token 1"), said);
      assertEquals(1, said.lines().count(), said);
    }
  }

  private static String metrics(Coordinator coordinator) throws Exception {
    return get(coordinator, "/metrics");
  }

  private static String get(Coordinator coordinator, String path) throws Exception {
    return response(coordinator, path).body();
  }

  private static HttpResponse<String> response(Coordinator coordinator, String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://" + coordinator.httpAddress().orElseThrow() + path)).timeout(Duration.ofSeconds(30))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Starts {@code first} with a job, then {@code second} on the same store, checks that the second
   * stands by, refuses agents and admins naming the first, then runs {@code end} on the first and
   * waits until the second drives the job.
   *
   * @return the job's id
   */
  private String standByThenTakeOver(TestPki pki, CoordinatorProcess first, CoordinatorProcess second, Step end)
      throws Exception {
    first.start();
    TlsFiles adminKit = pki.issue("admin", Role.ADMIN, List.of());
    TlsFiles hospitalKit = pki.issue("hospital-a", Role.HOSPITAL, List.of());
    ManagedChannel toFirst = TestPki.channel(adminKit, "127.0.0.1", first.port);
    ManagedChannel toSecond = TestPki.channel(adminKit, "127.0.0.1", second.port);
    try {
      String jobId = AdminServiceGrpc.newBlockingStub(toFirst).withDeadlineAfter(60, TimeUnit.SECONDS)
          .submitJob(SubmitJobRequest.newBuilder().setJobDocument(JOB).build()).getJobId();

      second.start();
      // The console's standby line follows its "listening" line, which is all start() waits for.
      second.awaitLog("medfed coordinator standby: ", Duration.ofSeconds(10));
      String holder = ":" + first.port + " (pid " + first.pid() + ")";
      String log = second.log();
      assertTrue(log.contains("medfed coordinator standby: coordinator 'coordinator' on "), log);
      assertTrue(log.contains("WARN Coordinator - standby: coordinator 'coordinator' on "), log);
      assertTrue(log.lines().filter(l -> l.contains("standby")).allMatch(l -> l.contains(holder)), log);

      AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(toSecond)
          .withDeadlineAfter(30, TimeUnit.SECONDS);
      StatusRuntimeException submit = assertThrows(StatusRuntimeException.class,
          () -> admin.submitJob(SubmitJobRequest.newBuilder().setJobDocument(JOB).build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, submit.getStatus().getCode());
      assertTrue(submit.getStatus().getDescription().contains("is on standby and drives no jobs")
          && submit.getStatus().getDescription().contains(holder)
          && submit.getStatus().getDescription().endsWith("send admin commands to that coordinator"),
          submit.getStatus().getDescription());
      Status session = agentSession(hospitalKit, second.port);
      assertEquals(Status.Code.UNAVAILABLE, session.getCode(), session.toString());
      assertTrue(session.getDescription().contains(holder), session.getDescription());
      assertFalse(second.log().contains("resuming"), "a standby resumes nothing:\n" + second.log());

      end.run();
      second.awaitLog("active: this coordinator (coordinator 'coordinator' on ", TAKE_OVER);
      assertEquals(JobState.RUNNING, AdminServiceGrpc.newBlockingStub(toSecond).withDeadlineAfter(30, TimeUnit.SECONDS)
          .getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getSummary().getState(), second.log());
      assertEquals(1, AdminServiceGrpc.newBlockingStub(toSecond).withDeadlineAfter(30, TimeUnit.SECONDS)
          .listJobs(ListJobsRequest.getDefaultInstance()).getJobsCount());
      return jobId;
    } finally {
      toFirst.shutdownNow();
      toSecond.shutdownNow();
    }
  }

  @FunctionalInterface
  private interface Step {
    void run() throws Exception;
  }

  /** Opens an agent session as a hospital would and returns how the coordinator ended it. */
  private static Status agentSession(TlsFiles kit, int port) throws Exception {
    ManagedChannel channel = TestPki.channel(kit, "127.0.0.1", port);
    try {
      CompletableFuture<Status> ended = new CompletableFuture<>();
      StreamObserver<AgentMessage> session = FederationServiceGrpc.newStub(channel).connect(new StreamObserver<>() {
        @Override
        public void onNext(CoordinatorMessage message) {
          ended.complete(Status.OK.withDescription("welcomed: " + message.getBodyCase()));
        }

        @Override
        public void onError(Throwable t) {
          ended.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
          ended.complete(Status.OK);
        }
      });
      session.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setNodeId("hospital-a")
          .setProtocolVersion(ProtocolVersion.CURRENT).setSoftwareVersion("test")).build());
      return ended.get(30, TimeUnit.SECONDS);
    } finally {
      channel.shutdownNow();
    }
  }

  private static List<String> phases(Database.Settings store, String jobId) throws Exception {
    try (Connection db = DriverManager.getConnection(store.url(), "medfed", "medfed-test-password");
        PreparedStatement query = db.prepareStatement("SELECT phase FROM job_events WHERE job_id = ? ORDER BY seq")) {
      query.setString(1, jobId);
      List<String> phases = new ArrayList<>();
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          phases.add(rows.getString(1));
        }
      }
      return phases;
    }
  }
}
