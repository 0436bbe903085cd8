package org.medfed.examples.bench;

import com.sun.management.OperatingSystemMXBean;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.medfed.coordinator.Coordinator;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.examples.synthetic.SyntheticConsortium;
import org.medfed.nodeagent.AgentMain;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.SubmitJobRequest;
import org.medfed.telemetry.WireBytes;

/**
 * Benchmark harness (run by bench/secure-round-bench.sh): rounds with 10 hospital agent processes
 * on loopback and a ~1M-parameter model, with secure aggregation on and off, alternating, in the
 * same run. Prints the ratios of round wall time and of gRPC message bytes (both directions), and
 * the CPU time each arm used. Arguments: agents (10), alternating pairs (3), training samples per
 * hospital (60: a round of mostly transfers, where the protocol's fixed cost weighs most), warm-up
 * pairs (1: a single secure job; more bring both arms nearer the steady state of a long-running agent).
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
    Path work = Files.createTempDirectory("medfed-bench");
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        // As `medfed serve`: agents ping every 30 s, which gRPC's default policy would punish.
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .addStreamTracerFactory(new WireBytes(WIRE).server());
    try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.defaults(work.resolve("coordinator")), builder)) {
      List<SyntheticConsortium.Hospital> sites = SyntheticConsortium.write(work.resolve("hospitals"),
          // Near-uniform labels (alpha 100): the bench measures cost, and every hospital needs samples.
          new SyntheticConsortium.Settings(hospitals, samples, 100.0, 1), "127.0.0.1:" + coordinator.port(),
          // Plaintext, as when the figures in docs/benchmarks.md were first taken: TLS costs both arms alike.
          Optional.empty());
      List<Process> agents = new ArrayList<>();
      for (SyntheticConsortium.Hospital site : sites) {
        ProcessBuilder process = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-Xmx512m",
            "-cp", System.getProperty("java.class.path"), AgentMain.class.getName(), "--config", site.agentConfig().toString())
            .redirectErrorStream(true).redirectOutput(work.resolve(site.id() + ".log").toFile());
        process.environment().put("OMP_NUM_THREADS", "1");
        agents.add(process.start());
      }
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", coordinator.port()).usePlaintext().build();
      try {
        AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(channel);
        Cpu cpu = new Cpu(agents);
        // Warm-up: JIT, ND4J, connections. One secure job leaves the JIT compiling for many jobs
        // more (its C2 thread used up to 0.5 s of an agent's CPU per job after 13 jobs).
        run(admin, hospitals, true, cpu);
        for (int i = 1; i < warmUpPairs; i++) {
          run(admin, hospitals, false, cpu);
          run(admin, hospitals, true, cpu);
        }
        System.out.println("-- end of warm-up --");
        List<double[]> off = new ArrayList<>();
        List<double[]> on = new ArrayList<>();
        for (int i = 0; i < repeats; i++) {
          off.add(run(admin, hospitals, false, cpu));
          on.add(run(admin, hospitals, true, cpu));
        }
        report(off, on, hospitals);
      } finally {
        channel.shutdownNow();
        agents.forEach(Process::destroy);
      }
    }
  }

  /**
   * CPU seconds used so far by the coordinator (this JVM) and by all agent processes. Beside wall
   * time it tells work from waiting: with more JVMs than cores, wall time follows total CPU.
   */
  private record Cpu(List<Process> agents) {
    double coordinatorSeconds() {
      return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    }

    double agentSeconds() {
      return agents.stream().mapToDouble(p -> p.info().totalCpuDuration().orElse(Duration.ZERO).toNanos() / 1e9).sum();
    }
  }

  /**
   * One job of 2 rounds; returns {seconds of round 2, wire bytes, coordinator CPU seconds, agents'
   * CPU seconds}, the last three for the whole job (training and evaluation) / 2.
   */
  private static double[] run(AdminServiceGrpc.AdminServiceBlockingStub admin, int hospitals, boolean secure, Cpu cpu) {
    String job = """
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
        secure_aggregation: %s
        deadlines: {selection: 5m, training: 5m, evaluation: 5m}
        """.formatted(SyntheticConsortium.GENES, hospitals, secure);
    double before = wireBytes();
    double coordinatorBefore = cpu.coordinatorSeconds();
    double agentsBefore = cpu.agentSeconds();
    String id = admin.submitJob(SubmitJobRequest.newBuilder().setJobDocument(job).build()).getJobId();
    Iterator<JobEvent> events = admin.withDeadlineAfter(15, TimeUnit.MINUTES)
        .watchJob(GetJobRequest.newBuilder().setJobId(id).build());
    events.forEachRemaining(e -> { });
    JobDetail detail = admin.getJob(GetJobRequest.newBuilder().setJobId(id).build());
    if (detail.getSummary().getState() != JobState.SUCCEEDED) {
      throw new IllegalStateException("bench job failed: " + detail.getSummary().getMessage());
    }
    double seconds = detail.getRounds(1).getSeconds();
    double bytes = (wireBytes() - before) / 2.0;
    double coordinatorCpu = (cpu.coordinatorSeconds() - coordinatorBefore) / 2.0;
    double agentsCpu = (cpu.agentSeconds() - agentsBefore) / 2.0;
    System.out.printf(Locale.ROOT,
        "secure_aggregation=%-5s round 2: %.2f s, %.1f MB per round, CPU per round: coordinator %.2f s, agents %.2f s%n",
        secure, seconds, bytes / 1e6, coordinatorCpu, agentsCpu);
    return new double[] {seconds, bytes, coordinatorCpu, agentsCpu};
  }

  private static void report(List<double[]> off, List<double[]> on, int hospitals) {
    double offSeconds = median(off, 0);
    double onSeconds = median(on, 0);
    double offBytes = median(off, 1);
    double onBytes = median(on, 1);
    System.out.printf(Locale.ROOT, "%n%d agents, medians of %d alternating runs:%n", hospitals, off.size());
    System.out.printf(Locale.ROOT, "round wall time: off %.2f s, on %.2f s, ratio %.3f (target <= 1.10)%n",
        offSeconds, onSeconds, onSeconds / offSeconds);
    // Each on run follows its off run: the ratio within a pair is less exposed to slow drift of the machine.
    double[] paired = new double[off.size()];
    for (int i = 0; i < paired.length; i++) {
      paired[i] = on.get(i)[0] / off.get(i)[0];
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
        median(off, 2), median(on, 2), hospitals, median(off, 3), median(on, 3));
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

  private static double median(List<double[]> runs, int field) {
    double[] values = runs.stream().mapToDouble(r -> r[field]).sorted().toArray();
    return values[values.length / 2];
  }

  private SecureRoundBench() {}
}
