package org.medfed.examples.bench;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.medfed.examples.Directories;
import org.medfed.examples.Kits;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.AgentConfig;
import org.medfed.nodeagent.session.Backoff;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.nodeagent.training.TrainingPlan;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.AgentMessage;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.RoundRecord;
import org.medfed.proto.v1.SubmitJobRequest;
import org.medfed.trust.provision.ConsortiumFile;
import org.medfed.trust.provision.Provisioner;
import org.medfed.trust.tls.Tls;
import org.medfed.trust.tls.TlsFiles;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Many hospitals through the real coordinator (issue 16 item 1): `medfed serve` in its own JVM, so
 * its heap and CPU are its own, and N node agents in this JVM, each with its own mutual-TLS identity
 * and gRPC connection on loopback, running the real round and secure-aggregation code. Training runs
 * on a pool bounded by the cores; a share of hospitals can vanish at a chosen protocol stage, and each
 * message an agent sends can be delayed. Prints the round time, the coordinator's heap after GC
 * (empty, with every hospital connected, and its peak during the rounds) and the CPU spent.
 */
@Command(name = "simulate", mixinStandardHelpOptions = true,
    description = "Run the coordinator and N simulated hospitals on this machine and report what a round costs.")
public final class Simulate implements Callable<Integer> {
  private static final int FEATURES = 64;

  /** Where a vanishing hospital stops: right after sending this message. */
  enum Stage {
    KEYS(AgentMessage.BodyCase.SECAGG_KEYS), SHARES(AgentMessage.BodyCase.SECAGG_SHARES);

    final AgentMessage.BodyCase after;

    Stage(AgentMessage.BodyCase after) {
      this.after = after;
    }
  }

  @Parameters(index = "0", defaultValue = "100", description = "Hospitals (default: ${DEFAULT-VALUE}).")
  int hospitals;

  @Option(names = "--parameters", defaultValue = "1000000", description = "Model size, an MLP 64-H-2 (default:"
      + " ${DEFAULT-VALUE}).")
  int parameters;

  @Option(names = "--rounds", defaultValue = "1", description = "Rounds (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--records", defaultValue = "8", description = "Training records per hospital (default:"
      + " ${DEFAULT-VALUE}).")
  int records;

  @Option(names = "--secure", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Secure aggregation (default: on).")
  boolean secure;

  @Option(names = "--neighbours", defaultValue = "-1", description = "SecAgg+ neighbours per hospital; -1 (default):"
      + " 2*ceil(log2 N), 0: every pair masks.")
  int neighbours;

  @Option(names = "--dropout", defaultValue = "0", description = "Share of hospitals that vanish (default: 0).")
  double dropout;

  @Option(names = "--dropout-stage", defaultValue = "SHARES", description = "After which message they vanish: KEYS or"
      + " SHARES (default: ${DEFAULT-VALUE}).")
  Stage stage;

  @Option(names = "--latency-ms", defaultValue = "0", description = "Delay on each message a hospital sends.")
  int latencyMs;

  @Option(names = "--coordinator-heap", defaultValue = "4g", description = "The coordinator's -Xmx (default:"
      + " ${DEFAULT-VALUE}).")
  String coordinatorHeap;

  @Option(names = "--work-dir", defaultValue = "results-out/simulate", description = "Kits, state and logs.")
  Path work;

  public static void main(String[] args) {
    System.exit(new CommandLine(new Simulate()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    work = work.toAbsolutePath();  // the coordinator's config names files by absolute path
    Directories.deleteRecursively(work);
    Files.createDirectories(work);
    // The agents' log goes to a file, read back for their protocol CPU; set before the first logger.
    System.setProperty("org.slf4j.simpleLogger.logFile", agentsLog().toString());
    int port;
    try (var socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    List<String> sites = new ArrayList<>();
    for (int k = 0; k < hospitals; k++) {
      sites.add(String.format(Locale.ROOT, "site-%04d", k));
    }
    long started = System.nanoTime();
    Path kits = work.resolve("kits");
    new Provisioner(Clock.systemUTC()).provision(new ConsortiumFile("simulation", "127.0.0.1", port,
        List.of("127.0.0.1"), sites, List.of("analyst"), 2), kits);
    System.out.printf(Locale.ROOT, "provisioned %d hospital kits in %.1f s%n", hospitals, seconds(started));

    try (CoordinatorChild coordinator = new CoordinatorChild(work, kits, port, coordinatorHeap)) {
      long empty = coordinator.heapAfterGc();
      BoundedTrainer trainer = new BoundedTrainer(new Dl4jTrainer(), Runtime.getRuntime().availableProcessors());
      Set<Integer> doomed = doomed();
      List<NodeAgent> agents = new ArrayList<>();
      started = System.nanoTime();
      for (int k = 0; k < hospitals; k++) {
        agents.add(agent(sites.get(k), k, port, kits, trainer, doomed.contains(k)));
      }
      CompletableFuture.allOf(agents.stream().map(NodeAgent::connected).toArray(CompletableFuture[]::new))
          .orTimeout(10, TimeUnit.MINUTES).join();
      long connected = coordinator.heapAfterGc();
      System.out.printf(Locale.ROOT, "%d agents connected in %.1f s; coordinator heap after GC: %d MB empty, %d MB"
          + " connected (%.0f KB per hospital)%n", hospitals, seconds(started), empty, connected,
          (connected - empty) * 1024.0 / hospitals);

      ManagedChannel adminChannel = Tls.channel("127.0.0.1", port, Kits.tls(kits.resolve("admins/analyst"), "analyst")
          .load()).build();
      try {
        run(AdminServiceGrpc.newBlockingStub(adminChannel), coordinator, trainer, connected);
      } finally {
        adminChannel.shutdownNow();
        agents.parallelStream().forEach(NodeAgent::close);
      }
    }
    return 0;
  }

  private void run(AdminServiceGrpc.AdminServiceBlockingStub admin, CoordinatorChild coordinator,
      BoundedTrainer trainer, long connectedHeap) throws IOException {
    int hidden = Math.max(1, (parameters - 2) / (FEATURES + 3));
    long modelParameters = (long) FEATURES * hidden + hidden + hidden * 2L + 2;
    int k = neighbours >= 0 ? neighbours : Math.min(hospitals - 1, 2 * (int) Math.ceil(Math.log(hospitals) / Math.log(2)));
    k -= k % 2;
    int survivors = hospitals - doomed().size();
    int minNodes = Math.max(2, (int) Math.floor(survivors * 0.9));
    String job = String.format(Locale.ROOT, """
        name: simulation
        dataset: synthetic
        model: {architecture: mlp, hidden: [%d]}
        input_shape: [%d]
        num_classes: 2
        rounds: %d
        min_nodes: %d
        local_epochs: 1
        batch_size: 8
        learning_rate: 0.01
        optimizer: sgd
        deadlines: {selection: 5m, training: 30m, evaluation: 30m}
        secure_aggregation: %s
        """, hidden, FEATURES, rounds, minNodes,
        secure ? "{neighbours: " + k + ", stage_deadline: 10m}" : "false");
    coordinator.markGcLog();
    double coordinatorCpu = coordinator.cpuSeconds();
    double agentsCpu = processCpuSeconds();
    long trainingCpu = trainer.cpuNanos.get();
    long started = System.nanoTime();
    String id = admin.submitJob(SubmitJobRequest.newBuilder().setJobDocument(job).build()).getJobId();
    // The live set, not the heap after young collections (which still holds old garbage): a full GC
    // every 5 s while the job runs.
    AtomicLong livePeak = new AtomicLong();
    Thread sampler = new Thread(() -> {
      try {
        while (!Thread.currentThread().isInterrupted()) {
          livePeak.accumulateAndGet(coordinator.heapAfterGc(), Math::max);
          Thread.sleep(5_000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException | RuntimeException e) {
        System.out.println("heap sampling stopped: " + e.getMessage());
      }
    }, "coordinator-heap-sampler");
    sampler.setDaemon(true);
    sampler.start();
    admin.withDeadlineAfter(6, TimeUnit.HOURS).watchJob(GetJobRequest.newBuilder().setJobId(id).build())
        .forEachRemaining(event -> { });
    sampler.interrupt();
    double wall = seconds(started);
    JobDetail detail = admin.getJob(GetJobRequest.newBuilder().setJobId(id).build());
    long peak = Math.max(livePeak.get(), connectedHeap);
    double modelMb = modelParameters * 4.0 / (1 << 20);
    System.out.printf(Locale.ROOT, "n=%d secure=%s%s dropout=%.2f%s latency=%d ms model=%d parameters (%.1f MB)%n",
        hospitals, secure ? "on" : "off", secure ? (k == 0 ? " (every pair)" : " (SecAgg+, " + k + " neighbours)") : "",
        dropout, dropout > 0 ? " after " + stage.name().toLowerCase(Locale.ROOT) : "", latencyMs, modelParameters,
        modelMb);
    System.out.printf(Locale.ROOT, "job %s: %s%n", detail.getSummary().getState(), detail.getSummary().getMessage());
    for (RoundRecord round : detail.getRoundsList()) {
      System.out.printf(Locale.ROOT, "round %d: %.1f s (training, secure aggregation, evaluation by every hospital),"
          + " %d contributors, %d dropped%n", round.getRound(), round.getSeconds(),
          round.getParticipantsCount(), round.getDroppedCount());
    }
    System.out.printf(Locale.ROOT, "coordinator heap after full GC: %d MB with everyone connected, peak %d MB"
        + " sampled every 5 s during the job: %.2f x the model above the connected heap (after young GCs, which"
        + " still count old garbage: %d MB)%n", connectedHeap, peak, (peak - connectedHeap) / modelMb,
        coordinator.peakHeapSinceMark());
    double agentTraining = (trainer.cpuNanos.get() - trainingCpu) / 1e9;
    double agentOther = processCpuSeconds() - agentsCpu - agentTraining;
    System.out.printf(Locale.ROOT, "CPU: coordinator %.1f s; hospitals' DL4J training and evaluation %.1f s, their"
        + " everything else (protocol, transfers, TLS) %.1f s = %.1f ms per hospital; wall %.1f s%n",
        coordinator.cpuSeconds() - coordinatorCpu, agentTraining, agentOther, agentOther * 1000 / hospitals, wall);
    printProtocolCpu(id);
    if (detail.getSummary().getState() != JobState.SUCCEEDED) {
      throw new IllegalStateException("the simulated job did not succeed: " + detail.getSummary().getMessage());
    }
  }

  private Path agentsLog() {
    return work.resolve("agents.log");
  }

  /**
   * Each hospital's "round CPU:" line (TaskRunner), averaged over the hospitals that logged one:
   * the per-thread CPU of secure aggregation's steps, which issue 16 compares from n = 100 to 1000.
   */
  private void printProtocolCpu(String jobId) throws IOException {
    Map<String, double[]> sums = new TreeMap<>();
    int hospitalsLogged = 0;
    for (String line : Files.readAllLines(agentsLog(), StandardCharsets.UTF_8)) {
      Optional<Map<String, String>> fields = RoundCpuLog.parse(line).filter(f -> jobId.equals(f.get("job")));
      if (fields.isEmpty()) {
        continue;
      }
      hospitalsLogged++;
      fields.get().forEach((name, value) -> {
        if (name.endsWith("_us")) {
          sums.computeIfAbsent(name, n -> new double[1])[0] += Long.parseLong(value) / 1e3;
        }
      });
    }
    if (hospitalsLogged == 0) {
      System.out.println("hospitals' protocol CPU: no round-CPU lines in " + agentsLog());
      return;
    }
    int logged = hospitalsLogged;
    System.out.printf(Locale.ROOT, "hospitals' protocol CPU (per-thread, mean of %d hospitals): %.1f ms; by step: %s%n",
        logged, sums.getOrDefault("protocol_us", new double[1])[0] / logged, sums.entrySet().stream()
            .filter(e -> !e.getKey().equals("protocol_us"))
            .map(e -> String.format(Locale.ROOT, "%s %.1f ms", e.getKey().replace("_us", ""), e.getValue()[0] / logged))
            .collect(Collectors.joining(", ")));
  }

  /** The hospitals that vanish: a seeded draw, so reruns lose the same ones. */
  private Set<Integer> doomed() {
    List<Integer> all = new ArrayList<>();
    for (int k = 0; k < hospitals; k++) {
      all.add(k);
    }
    Collections.shuffle(all, new Random(7));
    return new TreeSet<>(all.subList(0, (int) Math.round(dropout * hospitals)));
  }

  private NodeAgent agent(String id, int index, int port, Path kits, LocalTrainer trainer, boolean vanishes)
      throws IOException {
    TlsFiles tls = Kits.tls(kits.resolve("hospitals").resolve(id), id);
    LocalDataset data = synthetic(index);
    AgentConfig config = new AgentConfig(id, "127.0.0.1", port,
        List.of(new DatasetDeclaration(data.name(), data.kind(), DatasetFormat.CSV_MATRIX, Path.of("in-memory"),
            data.classes())),
        Backoff.defaults(), Duration.ofSeconds(30), Optional.of(tls), work.resolve("agents").resolve(id), true,
        Optional.empty());
    AtomicReference<NodeAgent> self = new AtomicReference<>();
    ManagedChannel channel = Tls.channel("127.0.0.1", port, tls.load())
        .intercept(new Messages(latencyMs, vanishes ? stage.after : null, () -> {
          System.out.printf(Locale.ROOT, "%s vanishes after %s%n", id, stage.name().toLowerCase(Locale.ROOT));
          CompletableFuture.runAsync(() -> self.get().close());
        }))
        .build();
    NodeAgent agent = new NodeAgent(config, channel, List.of(data), trainer);
    self.set(agent);
    agent.start();
    return agent;
  }

  /** A hospital's records: two Gaussian classes, shifted per hospital. */
  private LocalDataset synthetic(int index) {
    Random random = new Random(index);
    int test = 4;
    float[][] x = new float[records + test][FEATURES];
    float[][] y = new float[records + test][2];
    for (int i = 0; i < x.length; i++) {
      int label = i % 2;
      y[i][label] = 1;
      for (int j = 0; j < FEATURES; j++) {
        x[i][j] = (float) (random.nextGaussian() + (label == 0 ? -0.5 : 0.5) + 0.1 * (index % 5));
      }
    }
    DataSet all = new DataSet(Nd4j.create(x), Nd4j.create(y));
    List<DataSet> split = all.batchBy(records);
    return new LocalDataset("synthetic", DatasetKind.GENOMIC, new long[] {FEATURES}, List.of("a", "b"), split.get(0),
        split.get(1));
  }

  /** Delays each message a hospital sends, and makes a doomed one vanish right after the chosen message. */
  private static final class Messages implements ClientInterceptor {
    private final int latencyMs;
    private final AgentMessage.BodyCase vanishAfter;
    private final Runnable vanish;

    Messages(int latencyMs, AgentMessage.BodyCase vanishAfter, Runnable vanish) {
      this.latencyMs = latencyMs;
      this.vanishAfter = vanishAfter;
      this.vanish = vanish;
    }

    @Override
    public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void sendMessage(Q message) {
          if (latencyMs > 0) {
            try {
              Thread.sleep(latencyMs);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          super.sendMessage(message);
          if (vanishAfter != null && message instanceof AgentMessage sent && sent.getBodyCase() == vanishAfter) {
            vanish.run();
          }
        }
      };
    }
  }

  /** Training on at most as many threads as there are cores, whatever the number of hospitals; counts its CPU. */
  private static final class BoundedTrainer implements LocalTrainer {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private final LocalTrainer trainer;
    private final Semaphore cores;
    final AtomicLong cpuNanos = new AtomicLong();

    BoundedTrainer(LocalTrainer trainer, int cores) {
      this.trainer = trainer;
      this.cores = new Semaphore(cores, true);
    }

    @Override
    public Trained train(TrainingPlan plan, float[] global, LocalDataset dataset, CancellationToken cancel) {
      return bounded(() -> trainer.train(plan, global, dataset, cancel));
    }

    @Override
    public Evaluated evaluate(TrainingPlan plan, float[] parameters, LocalDataset dataset) {
      return bounded(() -> trainer.evaluate(plan, parameters, dataset));
    }

    private <T> T bounded(java.util.function.Supplier<T> work) {
      cores.acquireUninterruptibly();
      long cpu = THREADS.getCurrentThreadCpuTime();
      try {
        return work.get();
      } finally {
        cpuNanos.addAndGet(THREADS.getCurrentThreadCpuTime() - cpu);
        cores.release();
      }
    }
  }

  private static double processCpuSeconds() {
    return ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
  }

  private static double seconds(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1e9;
  }


}
