package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.cli.MedfedCli;
import org.medfed.coordinator.it.CrashDrill.KillPoint;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.SubmitJobRequest;
import org.medfed.trust.audit.AuditLog;
import org.medfed.trust.pki.Role;
import org.medfed.trust.tls.CoordinatorChannels;
import org.medfed.trust.tls.TlsFiles;

/**
 * The coordinator runs as its own process and is SIGKILLed at every stage of a round, each at two
 * points (as the stage begins and partway in), and restarted on the same data folder each time. The
 * job must finish with every round counted exactly once, and end where an uninterrupted run of the
 * same job ends.
 */
class CrashResumeTest {
  private static final String JOB = """
      name: %s
      dataset: expression
      model: {architecture: mlp, hidden: [16]}
      input_shape: [20]
      num_classes: 3
      rounds: 26
      min_nodes: 3
      local_epochs: 1
      batch_size: 16
      learning_rate: 0.01
      seed: 11
      deadlines: {selection: 60s, training: 60s, evaluation: 30s}
      secure_aggregation: {stage_deadline: 20s}
      """;

  @TempDir Path dir;

  @Test
  void killedAtEveryStage_jobCompletesWithEveryRoundCountedOnce_andMatchesAnUninterruptedRun() throws Exception {
    TestPki pki = new TestPki(dir);
    // Two points per stage: as the stage begins and partway into it. A point whose delay outlasts its
    // stage lands in a later one, which is a kill point too.
    String[][] stages = {
        {"SELECT", "0", "100"},
        {"TRAIN", "0", "400"},                    // models being sent; hospitals training
        {"SECAGG_ADVERTISE_KEYS", "0", "30"},
        {"SECAGG_SHARE_KEYS", "0", "60"},
        {"SECAGG_MASKED_INPUT", "0", "300"},      // collection
        {"SECAGG_CONSISTENCY_CHECK", "0", "20"},  // survivors signing the survivor set
        {"SECAGG_UNMASKING", "0", "10"},
        {"AGGREGATE", "0", "5"},
        {"EVALUATE", "0", "200"},
        {"CHECKPOINT", "0", "5"},                 // while checkpointing
        {"ROUND_COMPLETED", "0", "150"}};         // between rounds
    Deque<KillPoint> plan = new ArrayDeque<>();
    for (String[] stage : stages) {
      for (int point = 1; point <= 2; point++) {
        plan.add(new KillPoint(stage[0], Long.parseLong(stage[point]), 2 + plan.size() / 3, false));
      }
    }
    // And one orderly stop, as for an upgrade: the job must pause, not end, and resume the same way.
    plan.add(new KillPoint("SECAGG_MASKED_INPUT", 100, 2 + plan.size() / 3, true));
    int kills = plan.size();

    try (CoordinatorProcess coordinator = new CoordinatorProcess(dir, pki)) {
      coordinator.start();
      TlsFiles adminFiles = pki.issue("admin", Role.ADMIN, List.of());
      CoordinatorChannels adminChannel = CoordinatorChannels.of(TestPki.channel(adminFiles, "127.0.0.1",
          coordinator.port));
      Path adminKit = dir.resolve("admin.yaml");
      Files.writeString(adminKit, "coordinator: 127.0.0.1:" + coordinator.port + "\ntls: {certificate: "
          + adminFiles.certificate() + ", private_key: " + adminFiles.privateKey() + ", ca: " + adminFiles.ca()
          + "}\n");
      List<NodeAgent> agents = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          String node = "hospital-" + (char) ('a' + i);
          LocalDataset data = Blobs.dataset("expression", i + 1, 60, 40, 20);
          TlsFiles kit = pki.issue(node, Role.HOSPITAL, List.of());
          NodeAgent agent = new NodeAgent(Federation.agentConfig(node, data, coordinator.port,
              dir.resolve("agents").resolve(node), true, kit), TestPki.channel(kit, "127.0.0.1", coordinator.port),
              List.of(data), new Dl4jTrainer());
          agents.add(agent);
          agent.start();
          agent.connected().orTimeout(30, TimeUnit.SECONDS).join();
        }
        AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(adminChannel);
        String crashed = admin.submitJob(SubmitJobRequest.newBuilder().setJobDocument(JOB.formatted("crashed"))
            .build()).getJobId();
        // `medfed watch` follows the job across every restart, as an operator's terminal would.
        ByteArrayOutputStream watchOutput = new ByteArrayOutputStream();
        PrintStream console = System.out;
        System.setOut(new PrintStream(watchOutput, true, StandardCharsets.UTF_8));
        CompletableFuture<Integer> watch = CompletableFuture.supplyAsync(() -> MedfedCli.run("watch", "--kit",
            adminKit.toString(), crashed));

        List<String> killedAt = CrashDrill.run(coordinator, adminChannel, crashed, List.copyOf(plan),
            Duration.ofMinutes(10));

        JobDetail detail = CrashDrill.awaitEnd(adminChannel, crashed);
        System.out.println("CrashResumeTest killed the coordinator at " + killedAt);
        int watchExit = watch.get(2, TimeUnit.MINUTES);
        System.setOut(console);
        String watched = watchOutput.toString(StandardCharsets.UTF_8);
        assertEquals(0, watchExit, watched);
        assertTrue(watched.contains("lost the coordinator"), watched);
        assertTrue(watched.contains("coordinator restarted: resuming at round"), watched);
        assertTrue(watched.matches("(?s).*training: 3/3 nodes answered.*"), watched);
        assertTrue(watched.matches("(?s).*about \\d+m\\d\\ds left.*"), watched);
        assertTrue(watched.contains("job finished all 26 rounds"), watched);
        assertEquals(1, watched.lines().filter(l -> l.contains("round 26/26 done")).count(), watched);
        assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(),
            detail.getSummary().getMessage() + "\nkilled at " + killedAt + "\nlast log:\n" + coordinator.log());
        assertEquals(kills + 1, coordinator.starts());

        // Rounds take well under a second here, so a delayed kill point can land rounds later than
        // planned; 26 rounds leave room for that, so every kill hits a running job.
        // Every round exactly once, in order, each with its participants and metrics.
        List<JobEvent> history = CrashDrill.history(adminChannel, crashed);
        CrashDrill.assertEveryRoundCountedOnce(26, detail, history, "killed at " + killedAt);
        assertEquals(1, history.stream().filter(e -> e.getPhase().equals("PAUSED")).count(),
            "the orderly stop paused the job, and only that one");
        assertTrue(history.stream().noneMatch(e -> e.getState() == JobState.CANCELLED), "no stop ended the job");
        long resumes = history.stream().filter(e -> e.getPhase().equals("RESUMED")).count();
        assertEquals(kills, resumes, "each restart resumes the running job once; killed at " + killedAt);

        // The audit trail survived every kill intact, and the database holds all of it.
        Path auditFile = coordinator.dataDir.resolve("audit.log");
        CrashDrill.assertAuditedOnce(auditFile, crashed);

        // The same job, never interrupted, ends where the interrupted one did (within training noise).
        String baseline = admin.submitJob(SubmitJobRequest.newBuilder().setJobDocument(JOB.formatted("baseline"))
            .build()).getJobId();
        JobDetail uninterrupted = CrashDrill.awaitEnd(adminChannel, baseline);
        assertEquals(JobState.SUCCEEDED, uninterrupted.getSummary().getState(),
            uninterrupted.getSummary().getMessage());
        double resumedAccuracy = detail.getRounds(25).getMetricsOrThrow("eval_accuracy");
        double baselineAccuracy = uninterrupted.getRounds(25).getMetricsOrThrow("eval_accuracy");
        assertTrue(Math.abs(resumedAccuracy - baselineAccuracy) <= 0.05, "final accuracy " + resumedAccuracy
            + " after " + kills + " kills vs " + baselineAccuracy + " uninterrupted");
        assertTrue(resumedAccuracy > 0.6, "3-class accuracy should clearly beat chance, got " + resumedAccuracy);

        // The coordinator still runs and may be appending a record (file first, then database) while
        // this reads: compare the two once they agree or after 10 s. A record the database lost
        // never catches up, so the check still fails on one.
        Path database = coordinator.dataDir.resolve("medfed.db");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long inDatabase = auditRowsIn(database);
        long inFile = AuditLog.read(auditFile).size();
        while (inDatabase != inFile && System.nanoTime() < until) {
          Thread.sleep(100);
          inDatabase = auditRowsIn(database);
          inFile = AuditLog.read(auditFile).size();
        }
        assertEquals(inFile, inDatabase, "database copy of the audit trail");
      } finally {
        agents.forEach(NodeAgent::close);
        adminChannel.shutdownNow();
      }
    }
  }

  private static long auditRowsIn(Path database) throws Exception {
    try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + database);
        ResultSet rows = db.createStatement().executeQuery("SELECT COUNT(*) FROM audit_records")) {
      rows.next();
      return rows.getLong(1);
    }
  }
}
