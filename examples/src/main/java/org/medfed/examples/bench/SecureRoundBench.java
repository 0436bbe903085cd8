package org.medfed.examples.bench;

import com.sun.management.OperatingSystemMXBean;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.medfed.coordinator.Coordinator;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.examples.demo.DemoTask;
import org.medfed.examples.synthetic.SyntheticConsortium;
import org.medfed.nodeagent.AgentMain;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.SubmitJobRequest;
import org.medfed.telemetry.WireBytes;
import org.medfed.trust.provision.ConsortiumFile;
import org.medfed.trust.provision.Provisioner;
import org.medfed.trust.tls.Tls;
import org.medfed.trust.tls.TlsFiles;

/**
 * Benchmark harness (run by bench/secure-round-bench.sh): rounds with 10 hospital agent processes
 * on loopback, with secure aggregation on and off, alternating, in the same run. Prints the ratios
 * of round wall time and of gRPC message bytes (both directions), the CPU time each arm used, and
 * the secure round's critical path as if each hospital had its own machine ({@link CriticalPath}),
 * from the per-thread CPU each agent logs per round and the coordinator reports with the round's
 * progress. Arguments: agents (10), alternating pairs (3), training samples per hospital (60: a
 * round of mostly transfers, where the protocol's fixed cost weighs most), warm-up pairs (1: a
 * single secure job; more bring both arms nearer the steady state of a long-running agent), and the
 * model, {@link Model}: {@code mlp} (default) or {@code imaging} (the demo's imaging job).
 */
public final class SecureRoundBench {
  private static final MeterRegistry WIRE = new SimpleMeterRegistry();

  /** gRPC bytes on the wire so far, both directions, as the coordinator's own metrics count them. */
  private static double wireBytes() {
    return WIRE.get("medfed.sent").counter().count() + WIRE.get("medfed.received").counter().count();
  }

  public static void main(String[] args) throws Exception {
    int hospitals = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int samples = args.length > 2 ? Integer.parseInt(args[2]) : 60;
    int warmUpPairs = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    Model model = Model.of(args.length > 4 ? args[4] : "mlp");
    Path work = Files.createTempDirectory("medfed-bench");
    int port = freePort();
    List<String> ids = IntStream.range(0, hospitals).mapToObj(SyntheticConsortium::hospitalId).toList();
    Path kits = work.resolve("kits");
    CoordinatorConfig config = CoordinatorConfig.defaults(work.resolve("coordinator"));
    if (model.mutualTls()) {
      // As the demo: a consortium CA, so round keys and survivor sets are signed and verified.
      new Provisioner(Clock.systemUTC()).provision(new ConsortiumFile("medfed-bench", "127.0.0.1", port,
          List.of("127.0.0.1", "localhost"), ids, List.of("bench-admin"), 2), kits);
      Path kit = kits.resolve("coordinator");
      config = config.withTls(new CoordinatorConfig.Security(new TlsFiles(kit.resolve("coordinator.crt"),
          kit.resolve("coordinator.key"), kit.resolve("ca.crt")), kit.resolve("revoked.crl"), Duration.ofMinutes(1)));
    }
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        // As `medfed serve`: agents ping every 30 s, which gRPC's default policy would punish.
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .addStreamTracerFactory(new WireBytes(WIRE).server());
    try (Coordinator coordinator = Coordinator.start(config, builder)) {
      List<SyntheticConsortium.Hospital> sites = SyntheticConsortium.write(work.resolve("hospitals"),
          new SyntheticConsortium.Settings(hospitals, samples, model.dirichletAlpha(), model.seed()),
          "127.0.0.1:" + port, model.mutualTls() ? Optional.of(kits) : Optional.empty());
      List<Process> agents = new ArrayList<>();
      Map<String, Path> logs = new TreeMap<>();
      for (SyntheticConsortium.Hospital site : sites) {
        Path log = work.resolve(site.id() + ".log");
        ProcessBuilder process = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-Xmx512m",
            "-cp", System.getProperty("java.class.path"), AgentMain.class.getName(), "--config", site.agentConfig().toString())
            .redirectErrorStream(true).redirectOutput(log.toFile());
        process.environment().put("OMP_NUM_THREADS", "1");
        agents.add(process.start());
        logs.put(site.id(), log);
      }
      Path adminKit = kits.resolve("admins/bench-admin");
      ManagedChannel channel = model.mutualTls()
          ? Tls.channel("127.0.0.1", port, new TlsFiles(adminKit.resolve("bench-admin.crt"),
              adminKit.resolve("bench-admin.key"), adminKit.resolve("ca.crt")).load()).build()
          : NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
      try {
        AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(channel);
        Arm arm = new Arm(agents, logs, model, hospitals);
        // Warm-up: JIT, ND4J, connections. One secure job leaves the JIT compiling for many jobs
        // more (its C2 thread used up to 0.5 s of an agent's CPU per job after 13 jobs).
        run(admin, true, arm);
        for (int i = 1; i < warmUpPairs; i++) {
          run(admin, false, arm);
          run(admin, true, arm);
        }
        System.out.println("-- end of warm-up --");
        List<Run> off = new ArrayList<>();
        List<Run> on = new ArrayList<>();
        for (int i = 0; i < repeats; i++) {
          off.add(run(admin, false, arm));
          on.add(run(admin, true, arm));
        }
        report(off, on, hospitals);
        System.out.println("agent logs: " + work);
      } finally {
        channel.shutdownNow();
        agents.forEach(Process::destroy);
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The two jobs the bench can run, and the data and security they run with. */
  private enum Model {
    /**
     * A ~1M-parameter MLP on near-uniform labels (alpha 100: the bench measures cost, and every
     * hospital needs samples), without TLS, as when the first figures in docs/benchmarks.md were taken.
     */
    MLP(100.0, 1, false),
    /** The demo's imaging job (DemoTask), on the demo's label skew and seed, with the demo's mutual TLS. */
    IMAGING(0.5, 42, true);

    private final double dirichletAlpha;
    private final long seed;
    private final boolean mutualTls;

    Model(double dirichletAlpha, long seed, boolean mutualTls) {
      this.dirichletAlpha = dirichletAlpha;
      this.seed = seed;
      this.mutualTls = mutualTls;
    }

    static Model of(String name) {
      return switch (name.toLowerCase(Locale.ROOT)) {
        case "mlp" -> MLP;
        case "imaging" -> IMAGING;
        default -> throw new IllegalArgumentException("unknown model '" + name + "'; choose mlp or imaging");
      };
    }

    double dirichletAlpha() {
      return dirichletAlpha;
    }

    long seed() {
      return seed;
    }

    boolean mutualTls() {
      return mutualTls;
    }

    /** A job of 2 rounds on every hospital. */
    String jobDocument(int hospitals, boolean secure) {
      String document = this == IMAGING ? DemoTask.imaging(2, hospitals, seed).jobDocument() : """
          name: bench
          dataset: expression
          model: {architecture: mlp, hidden: [2400]}
          input_shape: [%d]
          num_classes: 4
          rounds: 2
          min_nodes: %d
          local_epochs: 1
          batch_size: 32
          learning_rate: 0.001
          deadlines: {selection: 5m, training: 5m, evaluation: 5m}
          """.formatted(SyntheticConsortium.GENES, hospitals);
      return document + "secure_aggregation: " + secure + "\n";
    }
  }

  /**
   * The agents of the run: their processes, for the CPU seconds they used so far, and their logs,
   * for each round's CPU by step. Beside wall time, CPU tells work from waiting: with more JVMs
   * than cores, wall time follows total CPU.
   */
  private record Arm(List<Process> agents, Map<String, Path> logs, Model model, int hospitals) {
    double coordinatorSeconds() {
      return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    }

    double agentSeconds() {
      return agents.stream().mapToDouble(p -> p.info().totalCpuDuration().orElse(Duration.ZERO).toNanos() / 1e9).sum();
    }
  }

  /**
   * One job's figures: round 2's wall seconds; wire bytes, coordinator CPU seconds and agents' CPU
   * seconds for the whole job (training and evaluation) / 2; and round 2's per-thread CPU by
   * hospital, with the coordinator's protocol CPU (0 for a plaintext round).
   */
  private record Run(double seconds, double bytes, double coordinatorCpu, double agentsCpu,
      Map<String, CriticalPath.HospitalCpu> hospitals, long coordinatorProtocolNanos, long coordinatorBesideNanos) {}

  private static Run run(AdminServiceGrpc.AdminServiceBlockingStub admin, boolean secure, Arm arm) {
    double before = wireBytes();
    double coordinatorBefore = arm.coordinatorSeconds();
    double agentsBefore = arm.agentSeconds();
    String id = admin.submitJob(SubmitJobRequest.newBuilder().setJobDocument(arm.model().jobDocument(arm.hospitals(),
        secure)).build()).getJobId();
    Iterator<JobEvent> events = admin.withDeadlineAfter(15, TimeUnit.MINUTES)
        .watchJob(GetJobRequest.newBuilder().setJobId(id).build());
    long[] coordinatorProtocol = {0};
    long[] coordinatorBeside = {0};
    events.forEachRemaining(e -> {
      Double us = e.getMetricsMap().get("secagg_coordinator_cpu_us");
      if (us != null && e.getRound() == 2) {
        coordinatorProtocol[0] = Math.round(us * 1_000);
        // Keys and shares: done while the hospitals train.
        coordinatorBeside[0] = Math.round((e.getMetricsMap().getOrDefault("secagg_cpu_keys_us", 0.0)
            + e.getMetricsMap().getOrDefault("secagg_cpu_shares_us", 0.0)) * 1_000);
      }
    });
    JobDetail detail = admin.getJob(GetJobRequest.newBuilder().setJobId(id).build());
    if (detail.getSummary().getState() != JobState.SUCCEEDED) {
      throw new IllegalStateException("bench job failed: " + detail.getSummary().getMessage());
    }
    double seconds = detail.getRounds(1).getSeconds();
    double bytes = (wireBytes() - before) / 2.0;
    double coordinatorCpu = (arm.coordinatorSeconds() - coordinatorBefore) / 2.0;
    double agentsCpu = (arm.agentSeconds() - agentsBefore) / 2.0;
    Map<String, CriticalPath.HospitalCpu> hospitals = new TreeMap<>();
    arm.logs().forEach((hospital, log) -> {
      Map<String, String> fields = RoundCpuLog.find(log, id, 2).orElseThrow(() -> new IllegalStateException(
          "agent " + hospital + " logged no round CPU line for job " + id + " round 2; see " + log));
      // What a secure task runs on another thread beside training; a plaintext round has none of it.
      long beside = secure ? RoundCpuLog.nanos(fields, "advertise_keys_us") + RoundCpuLog.nanos(fields, "share_keys_us")
          + RoundCpuLog.nanos(fields, "mask_expansion_us") : 0;
      CriticalPath.HospitalCpu cpu = new CriticalPath.HospitalCpu(RoundCpuLog.nanos(fields, "training_us"),
          RoundCpuLog.nanos(fields, "protocol_us"), beside);
      hospitals.put(hospital, cpu);
      if (secure) {
        System.out.printf(Locale.ROOT, "  %s round 2 CPU: training %.1f ms, protocol %.1f ms (%.1f%%): %s%n", hospital,
            cpu.trainingNanos() / 1e6, cpu.protocolNanos() / 1e6, 100.0 * cpu.protocolNanos() / cpu.trainingNanos(),
            fields.entrySet().stream().filter(f -> f.getKey().endsWith("_us") && !f.getKey().equals("protocol_us")
                && !f.getKey().equals("training_us")).map(f -> f.getKey() + "=" + f.getValue())
                .collect(Collectors.joining(" ")));
      }
    });
    System.out.printf(Locale.ROOT,
        "secure_aggregation=%-5s round 2: %.2f s, %.1f MB per round, CPU per round: coordinator %.2f s, agents %.2f s;"
        + " round 2 training CPU: max %.1f ms over %d hospitals%s%n",
        secure, seconds, bytes / 1e6, coordinatorCpu, agentsCpu,
        hospitals.values().stream().mapToLong(CriticalPath.HospitalCpu::trainingNanos).max().orElse(0) / 1e6,
        hospitals.size(), secure ? String.format(Locale.ROOT, ", coordinator protocol CPU %.1f ms",
            coordinatorProtocol[0] / 1e6) : "");
    return new Run(seconds, bytes, coordinatorCpu, agentsCpu, hospitals, coordinatorProtocol[0], coordinatorBeside[0]);
  }

  private static void report(List<Run> off, List<Run> on, int hospitals) {
    double offSeconds = median(off, Run::seconds);
    double onSeconds = median(on, Run::seconds);
    double offBytes = median(off, Run::bytes);
    double onBytes = median(on, Run::bytes);
    System.out.printf(Locale.ROOT, "%n%d agents, medians of %d alternating runs:%n", hospitals, off.size());
    System.out.printf(Locale.ROOT, "round wall time: off %.2f s, on %.2f s, ratio %.3f (retired target <= 1.10:"
        + " it measures contention on this machine)%n", offSeconds, onSeconds, onSeconds / offSeconds);
    // Each on run follows its off run: the ratio within a pair is less exposed to slow drift of the machine.
    double[] paired = new double[off.size()];
    for (int i = 0; i < paired.length; i++) {
      paired[i] = on.get(i).seconds() / off.get(i).seconds();
    }
    System.out.printf(Locale.ROOT, "paired ratios in run order: %s%n", Arrays.stream(paired)
        .mapToObj(r -> String.format(Locale.ROOT, "%.3f", r)).collect(Collectors.joining(" ")));
    double[] interval = bootstrapMedianInterval(paired, new SplittableRandom(1));
    Arrays.sort(paired);
    System.out.printf(Locale.ROOT, "median of the %d paired ratios (on / the off run just before it): %.3f,"
        + " 95%% bootstrap interval %.3f-%.3f%n", paired.length, paired[paired.length / 2], interval[0], interval[1]);
    System.out.printf(Locale.ROOT, "bytes per round: off %.2f MB, on %.2f MB, ratio %.4f (target <= 1.01)%n",
        offBytes / 1e6, onBytes / 1e6, onBytes / offBytes);
    System.out.printf(Locale.ROOT, "CPU per round, coordinator: off %.2f s, on %.2f s; all %d agents: off %.2f s, on %.2f s%n",
        median(off, Run::coordinatorCpu), median(on, Run::coordinatorCpu), hospitals, median(off, Run::agentsCpu),
        median(on, Run::agentsCpu));
    criticalPath(off, on);
  }

  /**
   * The critical path of each secure run against the plaintext run just before it, and the median
   * ratio. Training CPU of the same hospital varies between runs (JIT, caches shared with ten other
   * JVMs), so the secure run's path is also shown over its own training alone: that ratio has the
   * protocol's cost and no run-to-run noise of training.
   */
  private static void criticalPath(List<Run> off, List<Run> on) {
    System.out.printf(Locale.ROOT, "%ncritical path as if each hospital had its own machine (per-thread CPU, round 2):%n");
    List<CriticalPath> paths = new ArrayList<>();
    double[] ownTraining = new double[on.size()];
    double[] ownLower = new double[on.size()];
    for (int i = 0; i < on.size(); i++) {
      CriticalPath path = new CriticalPath(on.get(i).hospitals(), on.get(i).coordinatorProtocolNanos(),
          on.get(i).coordinatorBesideNanos(), off.get(i).hospitals().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
              e -> e.getValue().trainingNanos())));
      CriticalPath.HospitalCpu slowest = path.secure().get(path.slowestSecureHospital());
      List<Long> protocol = path.protocolNanos();
      long secureTraining = on.get(i).hospitals().values().stream().mapToLong(CriticalPath.HospitalCpu::trainingNanos)
          .max().orElseThrow();
      ownTraining[i] = (double) path.secureNanos() / secureTraining;
      System.out.printf(Locale.ROOT, "  pair %d: secure %.1f ms = %s's training %.1f + protocol %.1f, + coordinator"
          + " %.1f; plaintext max training %.1f ms; ratio %.3f; over the secure run's own max training %.3f"
          + " (hospitals' protocol CPU: min %.1f, median %.1f, max %.1f ms)%n",
          i + 1, path.secureNanos() / 1e6, path.slowestSecureHospital(), slowest.trainingNanos() / 1e6,
          slowest.protocolNanos() / 1e6, path.coordinatorNanos() / 1e6, path.plaintextNanos() / 1e6, path.ratio(),
          ownTraining[i], protocol.get(0) / 1e6, protocol.get(protocol.size() / 2) / 1e6,
          protocol.get(protocol.size() - 1) / 1e6);
      ownLower[i] = (double) path.lowerBoundNanos() / secureTraining;
      System.out.printf(Locale.ROOT, "          2-core lower bound (advertise keys, share keys, mask expansion and the"
          + " coordinator's keys and shares beside training): %.1f ms, ratio %.3f; over the secure run's own max"
          + " training %.3f%n", path.lowerBoundNanos() / 1e6, path.lowerBoundRatio(), ownLower[i]);
      paths.add(path);
    }
    double[] ratios = paths.stream().mapToDouble(CriticalPath::ratio).sorted().toArray();
    double[] lower = paths.stream().mapToDouble(CriticalPath::lowerBoundRatio).sorted().toArray();
    Arrays.sort(ownTraining);
    System.out.printf(Locale.ROOT, "critical-path ratio, 1-core upper bound: median of %d pairs %.3f (target <= 1.05);"
        + " over the secure runs' own training: median %.3f%n", ratios.length, ratios[ratios.length / 2],
        ownTraining[ownTraining.length / 2]);
    Arrays.sort(ownLower);
    System.out.printf(Locale.ROOT, "critical-path ratio, 2-core lower bound (steps beside training off the path):"
        + " median of %d pairs %.3f; over the secure runs' own training: median %.3f%n", lower.length,
        lower[lower.length / 2], ownLower[ownLower.length / 2]);
  }

  /**
   * Percentile bootstrap of the median: on this machine run-to-run noise is ±10-30%, so a median
   * of ten pairs says little without the range it could plausibly have come from.
   */
  private static double[] bootstrapMedianInterval(double[] values, SplittableRandom random) {
    int resamples = 10_000;
    double[] medians = new double[resamples];
    double[] sample = new double[values.length];
    for (int r = 0; r < resamples; r++) {
      for (int i = 0; i < sample.length; i++) {
        sample[i] = values[random.nextInt(values.length)];
      }
      Arrays.sort(sample);
      medians[r] = sample[sample.length / 2];
    }
    Arrays.sort(medians);
    return new double[] {medians[resamples / 40], medians[resamples - 1 - resamples / 40]};
  }

  private static double median(List<Run> runs, ToDoubleFunction<Run> field) {
    double[] values = runs.stream().mapToDouble(field).sorted().toArray();
    return values[values.length / 2];
  }

  private SecureRoundBench() {}
}
