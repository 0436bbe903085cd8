package org.medfed.examples.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.cli.MedfedCli;
import org.medfed.examples.synthetic.SyntheticDataMain;
import org.medfed.nodeagent.AgentMain;
import org.medfed.nodeagent.approval.ApprovalStore;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;

/**
 * The README's "Set up a consortium" walkthrough, step by step with the same commands: provision,
 * start a coordinator and two agents as separate processes on mutual TLS, submit a job, approve it
 * at both hospitals, watch it succeed, verify the audit logs.
 */
class ConsortiumWalkthroughTest {
  @TempDir Path dir;

  @Test
  void provisionServeApproveAndRun() throws Exception {
    int port = Processes.freePort();
    Path consortium = dir.resolve("consortium.yaml");
    // examples/consortium.yaml (tests run in the examples folder), on a free port
    Files.writeString(consortium, Files.readString(Path.of("consortium.yaml")).replace("localhost:7443",
        "localhost:" + port));
    Path kits = dir.resolve("kits");

    // 1. provision
    assertEquals(0, MedfedCli.run("provision", consortium.toString(), "--out", kits.toString()));
    assertEquals(0, new CommandLine(new SyntheticDataMain()).execute("--kits", kits.toString(), "--hospitals", "2",
        "--samples", "60"));
    // hospital-a's operator also lets Prometheus scrape the agent
    int metricsPort = Processes.freePort();
    Path agentA = kits.resolve("hospitals/hospital-a/agent.yaml");
    Files.writeString(agentA, Files.readString(agentA) + "metrics: {bind: 127.0.0.1, port: " + metricsPort + "}\n");

    try (Processes processes = new Processes(dir.resolve("logs"))) {
      // 2. the coordinator and two agents, each in its own process ("terminal")
      Process coordinator = processes.java("coordinator", MedfedCli.class.getName(), "serve", "--config",
          kits.resolve("coordinator/coordinator.yaml").toString(), "--http", "127.0.0.1:0");
      processes.awaitLog("coordinator", coordinator, "with mutual TLS", 60);
      for (String hospital : List.of("hospital-a", "hospital-b")) {
        Process agent = processes.java(hospital, AgentMain.class.getName(), "--config",
            kits.resolve("hospitals").resolve(hospital).resolve("agent.yaml").toString());
        processes.awaitLog(hospital, agent, "connected to localhost:" + port, 60);
      }

      // 3. submit; the agents hold it for approval
      Path job = dir.resolve("job.yaml");
      Files.writeString(job, """
          name: walkthrough
          dataset: expression
          model: {architecture: mlp, hidden: [16]}
          input_shape: [400]
          num_classes: 4
          rounds: 2
          min_nodes: 2
          learning_rate: 0.003
          deadlines: {selection: 2m, training: 2m, evaluation: 1m}
          """);
      String admin = kits.resolve("admins/alice").toString();
      String jobId = captureOut(() -> MedfedCli.run("submit", "--kit", admin, job.toString())).trim();
      assertTrue(jobId.startsWith("walkthrough-"), jobId);

      // 4. each hospital operator lists the pending job and approves its digest
      for (String hospital : List.of("hospital-a", "hospital-b")) {
        Path config = kits.resolve("hospitals").resolve(hospital).resolve("agent.yaml");
        ApprovalStore store = new ApprovalStore(config.getParent().resolve("state"));
        String digest = awaitPending(store);
        String listed = captureOut(() -> new CommandLine(new AgentMain()).execute("jobs", "--config", config.toString()));
        assertTrue(listed.contains(digest.substring(0, 12)) && listed.contains("walkthrough"), listed);
        assertEquals(0, new CommandLine(new AgentMain()).execute("approve", "--config", config.toString(),
            digest.substring(0, 12)));
      }

      // 5. watch it run to the end
      assertEquals(0, MedfedCli.run("watch", "--kit", admin, jobId));
      String shown = captureOut(() -> MedfedCli.run("show", "--kit", admin, jobId));
      assertTrue(shown.contains("hospital-a: approved") && shown.contains("hospital-b: approved"), shown);

      // 6. the consortium's other commands: nodes, jobs, download (the model loads in DL4J)
      String nodes = captureOut(() -> MedfedCli.run("nodes", "--kit", admin));
      assertTrue(nodes.contains("hospital-a") && nodes.contains("hospital-b") && nodes.contains("expression"), nodes);
      String jobs = captureOut(() -> MedfedCli.run("jobs", "--kit", admin));
      assertTrue(jobs.contains(jobId) && jobs.contains("SUCCEEDED"), jobs);
      Path model = dir.resolve("model.zip");
      captureOut(() -> MedfedCli.run("download", "--kit", admin, jobId, "--out", model.toString()));
      MultiLayerNetwork network =
          ModelSerializer.restoreMultiLayerNetwork(model.toFile());
      assertEquals(4, network.output(Nd4j.zeros(1, 400)).columns(), "one output per class");
      assertEquals(2, MedfedCli.run("cancel", "--kit", admin, jobId), "cancelling a finished job is refused");

      // 7. hospital-a's agent metrics: connected, tasks by outcome, bytes on the wire
      String scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertTrue(scrape.contains("medfed_agent_connected 1.0"), scrape);
      assertTrue(scrape.contains("medfed_agent_tasks_total{kind=\"train\",outcome=\"completed\"} 2.0"), scrape);
      assertTrue(scrape.contains("medfed_agent_tasks_total{kind=\"evaluate\",outcome=\"completed\"} 2.0"), scrape);
      assertTrue(scrape.matches("(?s).*medfed_sent_bytes_total [1-9][0-9]{4,}.*"), scrape);

      // 8. the audit logs are intact
      assertEquals(0, MedfedCli.run("audit", "verify", kits.resolve("coordinator/data/audit.log").toString()));
      assertEquals(0, new CommandLine(new AgentMain()).execute("audit", "--config",
          kits.resolve("hospitals/hospital-a/agent.yaml").toString()));
    }
  }

  private static String awaitPending(ApprovalStore store) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < until) {
      if (Files.exists(store.file()) && !store.read().pending().isEmpty()) {
        return store.read().pending().keySet().iterator().next();
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no job awaited approval in " + store.file());
  }

  private static synchronized String captureOut(IntSupplier command) {
    PrintStream original = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      int exit = command.getAsInt();
      assertEquals(0, exit, bytes.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(original);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
