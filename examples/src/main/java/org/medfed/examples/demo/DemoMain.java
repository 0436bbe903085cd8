package org.medfed.examples.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.grpc.ManagedChannel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.medfed.coordinator.cli.MedfedCli;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.examples.Directories;
import org.medfed.examples.synthetic.SyntheticConsortium;
import org.medfed.nodeagent.AgentMain;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetLoaders;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.AgentConfigLoader;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.JobSummary;
import org.medfed.proto.v1.SubmitJobRequest;
import org.medfed.trust.provision.ConsortiumFile;
import org.medfed.trust.provision.Provisioner;
import org.medfed.trust.tls.Tls;
import org.medfed.trust.tls.TlsFiles;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The one-command demo: a coordinator and several synthetic hospitals as separate processes on
 * loopback, an imaging and a genomic job (and, with {@code --tasks volumes}, a 3D CT job whose
 * hospitals hold DICOM series, NIfTI and multi-frame DICOM), and a table comparing the federated
 * model with each hospital alone and with all data pooled.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run a coordinator and simulated hospitals on this machine and compare federated, local-only "
        + "and pooled training.")
public final class DemoMain implements Callable<Integer> {
  /** Training volumes per hospital on average, whatever --samples says: volumes cost far more than images. */
  private static final int VOLUMES_PER_HOSPITAL = 60;

  @Option(names = "--hospitals", defaultValue = "4", description = "Number of hospitals (default: ${DEFAULT-VALUE}).")
  int hospitals;

  @Option(names = "--rounds", description = "Federated rounds per job (default: 30 imaging, 20 genomic, 5 volumes).")
  Integer rounds;

  @Option(names = "--samples", defaultValue = "300", description = "Training samples per hospital (default: ${DEFAULT-VALUE}).")
  int samples;

  @Option(names = "--seed", defaultValue = "42", description = "Seed for data and training (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--tasks", split = ",", defaultValue = "imaging,genomic", description = "Jobs to run: imaging, genomic, volumes (default: ${DEFAULT-VALUE}).")
  List<String> tasks;

  @Option(names = "--work-dir", defaultValue = "demo-out", description = "Data, logs and checkpoints (default: ${DEFAULT-VALUE}).")
  Path workDir;

  @Option(names = "--report", description = "Also write the results as JSON to this file.")
  Path report;

  public static void main(String[] args) {
    System.exit(new CommandLine(new DemoMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    long started = System.nanoTime();
    List<DemoTask> jobs = new ArrayList<>();
    for (String name : tasks) {
      jobs.add(switch (name.trim().toLowerCase(Locale.ROOT)) {
        case "imaging" -> DemoTask.imaging(rounds == null ? 30 : rounds, hospitals, seed);
        case "genomic" -> DemoTask.genomic(rounds == null ? 20 : rounds, hospitals, seed);
        // Five: by ten rounds (twenty local epochs) the best local-only model ties the federated one here.
        case "volumes" -> DemoTask.volumes(rounds == null ? 5 : rounds, hospitals, seed);
        default -> throw new CommandLine.ParameterException(new CommandLine(this),
            "unknown task '" + name + "'; choose from imaging, genomic and volumes");
      });
    }
    boolean volumes = jobs.stream().anyMatch(j -> j.dataset().equals(SyntheticConsortium.VOLUME_DATASET));
    Directories.deleteRecursively(workDir);
    int port = Processes.freePort();
    String address = "127.0.0.1:" + port;
    say("Generating %d synthetic hospitals (non-IID: Dirichlet alpha 0.5 label skew, per-site scanner and batch effects)",
        hospitals);
    say("Provisioning a throw-away consortium: CA, coordinator, %d hospital and 1 admin startup kits (mutual TLS)",
        hospitals);
    Path kits = workDir.resolve("kits");
    List<String> hospitalIds = IntStream.range(0, hospitals).mapToObj(SyntheticConsortium::hospitalId)
        .toList();
    new Provisioner(Clock.systemUTC()).provision(new ConsortiumFile("medfed-demo", "127.0.0.1", port,
        List.of("127.0.0.1", "localhost"), hospitalIds, List.of("demo-admin"), 2), kits);
    List<SyntheticConsortium.Hospital> sites = SyntheticConsortium.write(workDir.resolve("hospitals"),
        new SyntheticConsortium.Settings(hospitals, samples, 0.5, seed, volumes ? VOLUMES_PER_HOSPITAL : 0), address,
        Optional.of(kits));

    List<Map<String, Object>> results = new ArrayList<>();
    try (Processes processes = new Processes(workDir.resolve("logs"))) {
      say("Starting the coordinator on %s and %d hospital agents (separate processes, gRPC on loopback)", address, hospitals);
      Process coordinator = processes.java("coordinator", MedfedCli.class.getName(), "serve",
          "--config", kits.resolve("coordinator/coordinator.yaml").toString(), "--bind", "127.0.0.1",
          "--port", Integer.toString(port), "--data-dir", workDir.resolve("coordinator").toString(),
          "--http", "127.0.0.1:0");
      processes.awaitLog("coordinator", coordinator, "listening on", 60);
      processes.logLine("coordinator", "dashboard and /metrics on ")
          .ifPresent(line -> say("Dashboard: %s/ (Prometheus metrics on /metrics)",
              line.substring(line.indexOf("http://")).replaceAll("[,\\s].*$", "")));
      for (SyntheticConsortium.Hospital site : sites) {
        processes.java(site.id(), AgentMain.class.getName(), "--config", site.agentConfig().toString());
      }
      Path adminKit = kits.resolve("admins/demo-admin");
      ManagedChannel channel = Tls.channel("127.0.0.1", port, new TlsFiles(adminKit.resolve("demo-admin.crt"),
          adminKit.resolve("demo-admin.key"), adminKit.resolve("ca.crt")).load()).build();
      try {
        AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(channel);
        for (DemoTask task : jobs) {
          results.add(run(task, admin, sites));
        }
      } finally {
        channel.shutdownNow();
      }
    }
    printTable(results);
    if (report != null) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("tasks", results);
      Path parent = report.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(report.toFile(), json);
      say("Wrote %s", report);
    }
    say("Demo finished in %.0f s", (System.nanoTime() - started) / 1e9);
    return 0;
  }

  private Map<String, Object> run(DemoTask task, AdminServiceGrpc.AdminServiceBlockingStub admin,
      List<SyntheticConsortium.Hospital> sites) throws IOException {
    say("");
    say("== %s job: %d rounds, %d hospitals", task.name(), task.rounds(), hospitals);
    long started = System.nanoTime();
    JobSummary job = admin.submitJob(SubmitJobRequest.newBuilder().setJobDocument(task.jobDocument()).build());
    Iterator<JobEvent> events = admin.withDeadlineAfter(10, TimeUnit.MINUTES)
        .watchJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build());
    JobState state = JobState.RUNNING;
    String message = "";
    while (events.hasNext()) {
      JobEvent event = events.next();
      state = event.getState();
      message = event.getMessage();
      if (event.getPhase().equals("ROUND_COMPLETED")) {
        say("  round %2d/%d  accuracy %.3f  loss %.3f  (%d hospitals)", event.getRound(), task.rounds(),
            event.getMetricsOrDefault("eval_accuracy", Double.NaN), event.getMetricsOrDefault("eval_loss", Double.NaN),
            (int) event.getMetricsOrDefault("eval_nodes", 0));
      } else if (event.getPhase().equals("TRAINING") || event.getPhase().equals("EVALUATION")) {
        say("  %s", event.getMessage());
      }
    }
    if (state != JobState.SUCCEEDED) {
      throw new IllegalStateException(task.name() + " job ended " + state + ": " + message
          + " (logs under " + workDir.resolve("logs") + ")");
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    byte[] zip = MedfedCli.downloadModel(admin, job.getJobId());
    MultiLayerNetwork federated = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(zip), false);

    List<LocalDataset> data = new ArrayList<>();
    for (SyntheticConsortium.Hospital site : sites) {
      DatasetDeclaration declaration = AgentConfigLoader.load(site.agentConfig()).datasets().stream()
          .filter(d -> d.name().equals(task.dataset())).findFirst().orElseThrow();
      data.add(DatasetLoaders.load(declaration));
    }
    DataSet heldOut = Baselines.unionOfTestSplits(data);
    double federatedAccuracy = Dl4jTrainer.evaluate(federated, heldOut).metrics().get("accuracy");
    say("  federated model: accuracy %.3f on the union of the hospitals' test splits (%d samples), %.0f s",
        federatedAccuracy, heldOut.numExamples(), seconds);
    say("  training the same model locally at each hospital and on the pooled data (same budget)...");
    // Two independent trainings: run them on both cores (the demo JVM uses one ND4J thread each).
    var pooledRun = CompletableFuture.supplyAsync(() -> new Baselines(task).pooled(data, heldOut));
    List<Double> local = new Baselines(task).local(data, heldOut);
    double pooled = pooledRun.join();

    Map<String, Object> result = new LinkedHashMap<>();
    result.put("task", task.name());
    result.put("metric", "accuracy");
    result.put("federated", round3(federatedAccuracy));
    result.put("local", local.stream().map(DemoMain::round3).toList());
    result.put("pooled", round3(pooled));
    result.put("rounds", task.rounds());
    result.put("nodes", hospitals);
    result.put("secure_aggregation", JobSpecParser.parse(task.jobDocument())
        .secureAggregation().enabled());
    result.put("seconds", Math.round(seconds * 10) / 10.0);
    return result;
  }

  @SuppressWarnings("unchecked")
  private void printTable(List<Map<String, Object>> results) {
    say("");
    say("Accuracy on the union of all hospitals' held-out test splits");
    StringBuilder header = new StringBuilder(String.format("%-9s %9s %7s", "task", "federated", "pooled"));
    for (int h = 0; h < hospitals; h++) {
      header.append(String.format(" %11s", "local " + SyntheticConsortium.hospitalId(h).substring(9)));
    }
    header.append(String.format(" %10s", "mean local"));
    say("%s", header);
    for (Map<String, Object> r : results) {
      List<Double> local = (List<Double>) r.get("local");
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-9s %9.3f %7.3f", r.get("task"),
          (Double) r.get("federated"), (Double) r.get("pooled")));
      local.forEach(a -> row.append(String.format(Locale.ROOT, " %11.3f", a)));
      row.append(String.format(Locale.ROOT, " %10.3f", local.stream().mapToDouble(Double::doubleValue).average().orElse(0)));
      say("%s", row);
    }
  }

  private static double round3(double value) {
    return Math.round(value * 1000) / 1000.0;
  }

  private static void say(String format, Object... args) {
    System.out.println(String.format(Locale.ROOT, format, args));
  }

}
