package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.cli.MedfedCli;
import org.medfed.coordinator.it.CrashDrill.KillPoint;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.ListNodesRequest;
import org.medfed.proto.v1.NodeInfo;
import org.medfed.proto.v1.SubmitJobRequest;
import org.medfed.testsupport.PostgresCluster;
import org.medfed.trust.pki.Role;
import org.medfed.trust.tls.CoordinatorAddress;
import org.medfed.trust.tls.CoordinatorChannels;
import org.medfed.trust.tls.TlsFiles;

/**
 * Active/passive failover on PostgreSQL: two {@code medfed serve} processes on one database (and
 * one shared data folder for the checkpoints, as two machines would share a volume), hospitals and
 * the admin's `medfed watch` configured with both addresses. The active coordinator is SIGKILLed
 * once in each group of a secure round's stages, in rounds 1 to 5; each time the standby must take
 * over within the bound the issue sets and the hospitals must find it by themselves, and the
 * killed one is started again as the new standby. The job must finish with every round counted
 * once.
 *
 * <p>A coordinator process takes seconds to start, many rounds' worth; every stage at two points, as
 * {@code CrashResumeTest} kills a restarting coordinator, would take minutes here. One point per
 * group covers what a takeover can interrupt: the models out and hospitals training (SELECT,
 * TRAIN), the key agreement (ADVERTISE_KEYS, SHARE_KEYS), the masked uploads (MASKED_INPUT), the
 * survivors' signatures, unmasking and aggregation (CONSISTENCY_CHECK, UNMASKING, AGGREGATE), and
 * evaluation and the checkpoint (EVALUATE, CHECKPOINT, ROUND_COMPLETED).
 */
class FailoverEndToEndTest {
  /**
   * What the product promises with the default lease_ttl_seconds of 10 (see README). The TTL here is
   * 5 s (a takeover within 6.7 s); 2 s lapsed under a loaded machine's pauses before any kill.
   */
  private static final Duration TAKEOVER_BOUND = Duration.ofSeconds(15);
  private static final List<KillPoint> PLAN = List.of(
      new KillPoint("TRAIN", 200, 1, false),
      new KillPoint("SECAGG_SHARE_KEYS", 0, 2, false),
      new KillPoint("SECAGG_MASKED_INPUT", 100, 3, false),
      new KillPoint("SECAGG_CONSISTENCY_CHECK", 0, 4, false),
      new KillPoint("EVALUATE", 100, 5, false));
  private static final int ROUNDS = 8;
  private static final String JOB = """
      name: failover
      dataset: expression
      model: {architecture: mlp, hidden: [8]}
      input_shape: [20]
      num_classes: 3
      rounds: %d
      min_nodes: 3
      local_epochs: 1
      batch_size: 16
      learning_rate: 0.01
      seed: 11
      deadlines: {selection: 60s, training: 60s, evaluation: 30s}
      secure_aggregation: {stage_deadline: 20s}
      """.formatted(ROUNDS);

  @TempDir Path dir;

  @Test
  void activeKilledInEachGroupOfStages_standbyTakesOverWithinTheBound_hospitalsFollow_andEveryRoundCountsOnce()
      throws Exception {
    Path bin = PostgresCluster.binariesOrSkip("the PostgreSQL failover test");
    TestPki pki = new TestPki(dir);
    try (PostgresCluster postgres = PostgresCluster.start(bin)) {
      List<String> config = PostgresStores.coordinatorConfig(postgres, 5);
      Path shared = dir.resolve("shared-data");
      try (CoordinatorProcess first = new CoordinatorProcess(dir.resolve("first"), pki, shared, config);
          CoordinatorProcess second = new CoordinatorProcess(dir.resolve("second"), pki, shared, config)) {
        first.start();
        second.start();
        second.awaitLog("medfed coordinator standby: ", Duration.ofSeconds(10));
        run(pki, first, second);
      }
    }
  }

  private void run(TestPki pki, CoordinatorProcess first, CoordinatorProcess second) throws Exception {
    List<Integer> ports = List.of(first.port, second.port);
    TlsFiles adminFiles = pki.issue("admin", Role.ADMIN, List.of());
    Path adminKit = dir.resolve("admin.yaml");
    Files.writeString(adminKit, "coordinator: [127.0.0.1:" + first.port + ", 127.0.0.1:" + second.port + "]\n"
        + "tls: {certificate: " + adminFiles.certificate() + ", private_key: " + adminFiles.privateKey() + ", ca: "
        + adminFiles.ca() + "}\n");
    CoordinatorChannels admin = TestPki.channels(adminFiles, ports);
    List<NodeAgent> agents = new ArrayList<>();
    Gate training = new Gate();
    PrintStream console = System.out;
    try {
      for (int i = 0; i < 3; i++) {
        String node = "hospital-" + (char) ('a' + i);
        LocalDataset data = Blobs.dataset("expression", i + 1, 60, 40, 20);
        TlsFiles kit = pki.issue(node, Role.HOSPITAL, List.of());
        NodeAgent agent = new NodeAgent(Federation.agentConfig(node, data, first.port,
            dir.resolve("agents").resolve(node), true, kit).withCoordinators(ports.stream()
            .map(port -> new CoordinatorAddress("127.0.0.1", port)).toList()),
            TestPki.channels(kit, ports), List.of(data), new RecordingTrainer((call, corrected) -> training.pass()));
        agents.add(agent);
        agent.start();
        agent.connected().orTimeout(30, TimeUnit.SECONDS).join();
      }
      String jobId = admin.onActive(channel -> AdminServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(60, TimeUnit.SECONDS).submitJob(SubmitJobRequest.newBuilder().setJobDocument(JOB).build())
          .getJobId());
      // `medfed watch` with the kit's two addresses follows the job across every takeover.
      ByteArrayOutputStream watchOutput = new ByteArrayOutputStream();
      System.setOut(new PrintStream(watchOutput, true, StandardCharsets.UTF_8));
      CompletableFuture<Integer> watch = CompletableFuture.supplyAsync(() -> MedfedCli.run("watch", "--kit",
          adminKit.toString(), jobId));

      CoordinatorProcess active = first;
      CoordinatorProcess standby = second;
      List<String> killedAt = new ArrayList<>();
      List<Duration> takeovers = new ArrayList<>();
      long since = 0;
      long started = System.nanoTime();
      for (KillPoint point : PLAN) {
        JobEvent hit = CrashDrill.awaitPhase(admin, jobId, point, since);
        Thread.sleep(point.delayMillis());
        // The round the standby resumes waits in training until the killed one stands by again.
        training.close();
        long killed = System.nanoTime();
        active.kill();
        since = System.currentTimeMillis();
        killedAt.add(point.phase() + "+" + point.delayMillis() + "ms in round " + hit.getRound());
        // The bound is the assertion: awaitLog fails, with the standby's log, once it has passed.
        standby.awaitLog("active: this coordinator (", TAKEOVER_BOUND);
        takeovers.add(Duration.ofNanos(System.nanoTime() - killed));
        console.println("FailoverEndToEndTest: killed at " + killedAt.get(killedAt.size() - 1) + "; the standby took"
            + " over after " + takeovers.get(takeovers.size() - 1).toMillis() + " ms");
        active.start();
        active.awaitLog("medfed coordinator standby: ", Duration.ofSeconds(30));
        training.open();
        CoordinatorProcess taken = standby;
        standby = active;
        active = taken;
      }
      Duration killing = Duration.ofNanos(System.nanoTime() - started);

      JobDetail detail = CrashDrill.awaitEnd(admin, jobId);
      int watchExit = watch.get(2, TimeUnit.MINUTES);
      System.setOut(console);
      System.out.println("FailoverEndToEndTest killed the active coordinator at " + killedAt + " in " + killing
          + "; the standby took over after " + takeovers.stream().map(d -> d.toMillis() + " ms").toList());
      String watched = watchOutput.toString(StandardCharsets.UTF_8);
      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(),
          detail.getSummary().getMessage() + "\nkilled at " + killedAt + "\nlast log:\n" + active.log());
      assertTrue(takeovers.stream().allMatch(d -> d.compareTo(TAKEOVER_BOUND) <= 0), takeovers.toString());

      List<JobEvent> history = CrashDrill.history(admin, jobId);
      CrashDrill.assertEveryRoundCountedOnce(ROUNDS, detail, history, "killed at " + killedAt);
      assertEquals(PLAN.size(), history.stream().filter(e -> e.getPhase().equals("RESUMED")).count(),
          "each takeover resumes the running job once; killed at " + killedAt);
      CrashDrill.assertAuditedOnce(active.dataDir.resolve("audit.log"), jobId);

      // The hospitals found each new active coordinator by themselves, over mutual TLS.
      List<NodeInfo> nodes = admin.onActive(channel -> AdminServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS).listNodes(ListNodesRequest.getDefaultInstance()).getNodesList());
      assertEquals(List.of(true, true, true), nodes.stream().map(NodeInfo::getConnected).toList(),
          nodes.toString());

      assertEquals(0, watchExit, watched);
      assertTrue(watched.contains("lost the coordinator at 127.0.0.1:"), watched);
      assertTrue(watched.contains("job finished all " + ROUNDS + " rounds"), watched);
      assertEquals(1, watched.lines().filter(l -> l.contains("round " + ROUNDS + "/" + ROUNDS + " done")).count(),
          watched);
    } finally {
      System.setOut(console);
      agents.forEach(NodeAgent::close);
      admin.shutdownNow();
    }
  }

  /**
   * Holds the hospitals' training while closed, as slow hospitals would, so that no round passes
   * while a killed coordinator starts again: the rounds the plan needs then do not depend on how
   * fast the machine starts a JVM.
   */
  private static final class Gate {
    private CompletableFuture<Void> open = CompletableFuture.completedFuture(null);

    synchronized void close() {
      if (open.isDone()) {
        open = new CompletableFuture<>();
      }
    }

    synchronized void open() {
      open.complete(null);
    }

    void pass() {
      CompletableFuture<Void> now;
      synchronized (this) {
        now = open;
      }
      now.orTimeout(2, TimeUnit.MINUTES).join();
    }
  }
}
