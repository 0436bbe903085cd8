package org.medfed.examples.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.OperatingSystemMXBean;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import java.util.stream.Collectors;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import org.bytedeco.javacpp.Pointer;
import org.medfed.examples.Directories;
import org.medfed.examples.Kits;
import org.medfed.nodeagent.AgentMain;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.AgentConfig;
import org.medfed.nodeagent.session.Backoff;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.Chunk;
import org.medfed.proto.v1.FederationServiceGrpc;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.SubmitJobRequest;
import org.medfed.proto.v1.UpdateUploadMessage;
import org.medfed.trust.provision.ConsortiumFile;
import org.medfed.trust.provision.Provisioner;
import org.medfed.trust.tls.Tls;
import org.medfed.trust.tls.TlsFiles;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A large model's round trip through the real coordinator (issue 16 item 3): `medfed serve` in its
 * own JVM and one hospital in this one, over mutual TLS on loopback, in a plaintext job so that
 * the bytes that cross are the model and the update themselves. Each download and upload is timed
 * from the call's start to its close, and compared with raw loopback TCP moving the same number
 * of bytes in the same run, before and after the job. Prints both processes' peak heap.
 */
@Command(name = "transfer-bench", mixinStandardHelpOptions = true,
    description = "Time a large model's download and upload through the coordinator against raw loopback TCP.")
public final class TransferBench implements Callable<Integer> {
  private static final int FEATURES = 64;
  private static final String DOWNLOAD = FederationServiceGrpc.getDownloadModelMethod().getFullMethodName();
  private static final String UPLOAD = FederationServiceGrpc.getUploadUpdateMethod().getFullMethodName();

  @Option(names = "--parameters", defaultValue = "100000000", description = "Model size, an MLP 64-H-2 (default:"
      + " ${DEFAULT-VALUE}).")
  long parameters;

  @Option(names = "--rounds", defaultValue = "2", description = "Rounds; the last one's transfers are the warm"
      + " figures (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--coordinator-heap", defaultValue = "6g", description = "The coordinator's -Xmx (default:"
      + " ${DEFAULT-VALUE}).")
  String coordinatorHeap;

  @Option(names = "--chunk-kib", description = "coordinator.yaml's chunk_size_kib (default: the coordinator's, 1024).")
  Integer chunkKib;

  @Option(names = "--work-dir", defaultValue = "results-out/transfer", description = "Kits, state and logs.")
  Path work;

  /**
   * One timed call: which way, bytes of chunk data, seconds from the call's start to its close, and
   * the CPU seconds each process spent meanwhile.
   */
  record Transfer(boolean down, long bytes, double seconds, Status status, double hospitalCpu, double coordinatorCpu) {
    double megabytesPerSecond() {
      return bytes / 1e6 / seconds;
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new TransferBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    work = work.toAbsolutePath();
    Directories.deleteRecursively(work);
    Files.createDirectories(work);
    HeapPeak agentHeap = HeapPeak.watch();
    int hidden = (int) Math.max(1, (parameters - 2) / (FEATURES + 3));
    long modelParameters = (long) FEATURES * hidden + hidden + hidden * 2L + 2;
    long modelBytes = modelParameters * Float.BYTES;
    System.out.printf(Locale.ROOT, "model: MLP %d-%d-2, %d parameters, %.1f MB of float32%n", FEATURES, hidden,
        modelParameters, modelBytes / 1e6);

    int port;
    try (var socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path kits = work.resolve("kits");
    new Provisioner(Clock.systemUTC()).provision(new ConsortiumFile("transfer", "127.0.0.1", port,
        List.of("127.0.0.1"), List.of("hospital"), List.of("analyst"), 2), kits);
    TlsFiles.Material coordinatorKit = Kits.tls(kits.resolve("coordinator"), "coordinator").load();
    TlsFiles.Material hospitalKit = Kits.tls(kits.resolve("hospitals/hospital"), "hospital").load();
    RawLoopback.Figure tcpBefore = RawLoopback.plain(modelBytes);
    RawLoopback.Figure tlsBefore = RawLoopback.mutualTls(modelBytes, coordinatorKit, hospitalKit);
    List<Transfer> transfers = new CopyOnWriteArrayList<>();
    PeakResident resident = new PeakResident();
    try (CoordinatorChild coordinator = new CoordinatorChild(work, kits, port, coordinatorHeap,
        Optional.ofNullable(chunkKib))) {
      long connectedHeap;
      NodeAgent agent = agent(port, kits, transfers, coordinator::cpuSeconds);
      try {
        agent.connected().orTimeout(2, TimeUnit.MINUTES).join();
        connectedHeap = coordinator.heapAfterGc();
        coordinator.markGcLog();
        resident.start();
        ManagedChannel admin = Tls.channel("127.0.0.1", port, Kits.tls(kits.resolve("admins/analyst"), "analyst")
            .load()).build();
        try {
          runJob(AdminServiceGrpc.newBlockingStub(admin), hidden);
        } finally {
          admin.shutdownNow();
        }
      } finally {
        resident.stop();
        agent.close();
      }
      RawLoopback.Figure tcpAfter = RawLoopback.plain(modelBytes);
      RawLoopback.Figure tlsAfter = RawLoopback.mutualTls(modelBytes, coordinatorKit, hospitalKit);
      System.out.printf(Locale.ROOT, "chunk size: %s; gRPC TLS provider: %s; JDK TLS baseline: %s%n",
          chunkKib == null ? "the coordinator's default (1024 KiB)" : chunkKib + " KiB",
          OpenSsl.isAvailable() ? "OpenSSL (netty-tcnative " + OpenSsl.versionString() + ")" : "the JDK",
          RawLoopback.cipherSuite(coordinatorKit, hospitalKit));
      report(transfers, modelBytes, List.of(tcpBefore, tcpAfter), List.of(tlsBefore, tlsAfter));
      System.out.printf(Locale.ROOT, "coordinator heap: %d MB after a full GC with the hospital connected; peak %d MB"
          + " after any collection during the job (%.2f x the model above the connected heap)%n", connectedHeap,
          coordinator.peakHeapSinceMark(), (coordinator.peakHeapSinceMark() - connectedHeap) / (modelBytes / 1048576.0));
      System.out.printf(Locale.ROOT, "hospital JVM: peak heap after any collection %d MB (%.2f x the model); peak"
          + " resident memory, with ND4J's off-heap network, %d MB%n", agentHeap.peakMegabytes(),
          agentHeap.peakMegabytes() / (modelBytes / 1048576.0), resident.peak.get() >> 20);
    }
    return 0;
  }

  private void runJob(AdminServiceGrpc.AdminServiceBlockingStub admin, int hidden) {
    String job = String.format(Locale.ROOT, """
        name: transfer
        dataset: synthetic
        model: {architecture: mlp, hidden: [%d]}
        input_shape: [%d]
        num_classes: 2
        rounds: %d
        min_nodes: 1
        local_epochs: 1
        batch_size: 8
        learning_rate: 0.01
        optimizer: sgd
        secure_aggregation: false   # one hospital: the bytes that cross are the model and the update
        deadlines: {selection: 5m, training: 30m, evaluation: 30m}
        """, hidden, FEATURES, rounds);
    long started = System.nanoTime();
    String id = admin.submitJob(SubmitJobRequest.newBuilder().setJobDocument(job).build()).getJobId();
    admin.withDeadlineAfter(2, TimeUnit.HOURS).watchJob(GetJobRequest.newBuilder().setJobId(id).build())
        .forEachRemaining(event -> { });
    JobDetail detail = admin.getJob(GetJobRequest.newBuilder().setJobId(id).build());
    System.out.printf(Locale.ROOT, "job %s in %.1f s: %s%n", detail.getSummary().getState(),
        (System.nanoTime() - started) / 1e9, detail.getSummary().getMessage());
    if (detail.getSummary().getState() != JobState.SUCCEEDED) {
      throw new IllegalStateException("the transfer job did not succeed: " + detail.getSummary().getMessage());
    }
  }

  private static void report(List<Transfer> transfers, long modelBytes, List<RawLoopback.Figure> tcp,
      List<RawLoopback.Figure> tls) {
    for (Transfer t : transfers) {
      System.out.printf(Locale.ROOT, "%-8s %8.1f MB in %6.2f s: %7.1f MB/s; CPU s/GB: hospital %.2f, coordinator"
          + " %.2f%s%n", t.down() ? "download" : "upload", t.bytes() / 1e6, t.seconds(), t.megabytesPerSecond(),
          t.hospitalCpu() / (t.bytes() / 1e9), t.coordinatorCpu() / (t.bytes() / 1e9),
          t.status().isOk() ? "" : " (" + t.status() + ")");
    }
    List<Transfer> whole = transfers.stream().filter(t -> t.status().isOk() && t.bytes() >= modelBytes).toList();
    // The last round's: the first download of the round (training) and its upload, after the JIT has
    // seen a whole round.
    Transfer down = null;
    Transfer up = null;
    for (Transfer t : whole) {
      if (!t.down()) {
        up = t;
      }
    }
    for (int i = whole.indexOf(up) - 1; i >= 0 && down == null; i--) {
      if (whole.get(i).down()) {
        down = whole.get(i);
      }
    }
    if (down == null || up == null) {
      throw new IllegalStateException("no whole download and upload were seen: " + transfers);
    }
    double roundTrip = (down.bytes() + up.bytes()) / 1e6 / (down.seconds() + up.seconds());
    double roundTripCpu = (down.hospitalCpu() + down.coordinatorCpu() + up.hospitalCpu() + up.coordinatorCpu())
        / ((down.bytes() + up.bytes()) / 1e9);
    RawLoopback.Figure bestTcp = baseline("raw loopback TCP", tcp);
    RawLoopback.Figure bestTls = baseline("raw loopback mutual TLS (JDK SSLSocket)", tls);
    System.out.printf(Locale.ROOT, "round trip (last round: download for training, then the upload): %.0f MB/s"
        + " (download %.0f, upload %.0f), %.2f CPU s/GB (both processes)%n", roundTrip, down.megabytesPerSecond(),
        up.megabytesPerSecond(), roundTripCpu);
    System.out.printf(Locale.ROOT, "ratio round trip / raw loopback TCP = %.2f (%.0f MB/s, the faster run);"
        + " / raw loopback mutual TLS = %.2f (%.0f MB/s)%n", roundTrip / bestTcp.megabytesPerSecond(),
        bestTcp.megabytesPerSecond(), roundTrip / bestTls.megabytesPerSecond(), bestTls.megabytesPerSecond());
  }

  /** Prints a baseline's runs before and after the job and returns the faster. */
  private static RawLoopback.Figure baseline(String name, List<RawLoopback.Figure> runs) {
    System.out.printf(Locale.ROOT, "%s, same bytes in 1 MiB writes: %s%n", name, runs.stream()
        .map(f -> String.format(Locale.ROOT, "%.0f MB/s (%.2f CPU s/GB)", f.megabytesPerSecond(),
            f.cpuSecondsPerGigabyte())).collect(Collectors.joining(" before the job, ", "", " after")));
    return runs.stream().max(java.util.Comparator.comparingDouble(RawLoopback.Figure::megabytesPerSecond))
        .orElseThrow();
  }

  private NodeAgent agent(int port, Path kits, List<Transfer> transfers, DoubleSupplier coordinatorCpu)
      throws IOException {
    TlsFiles tls = Kits.tls(kits.resolve("hospitals").resolve("hospital"), "hospital");
    LocalDataset data = synthetic();
    AgentConfig config = new AgentConfig("hospital", "127.0.0.1", port,
        List.of(new DatasetDeclaration(data.name(), data.kind(), DatasetFormat.CSV_MATRIX, Path.of("in-memory"),
            data.classes())),
        Backoff.defaults(), Duration.ofSeconds(30), Optional.of(tls), work.resolve("agent"), true, Optional.empty());
    // The agent's own channel (its flow-control window, keepalive), with the timing interceptor.
    ManagedChannel channel = AgentMain.channel(config, new Timing(transfers, coordinatorCpu));
    NodeAgent agent = new NodeAgent(config, channel, List.of(data), new Dl4jTrainer());
    agent.start();
    return agent;
  }

  private static LocalDataset synthetic() {
    Random random = new Random(1);
    float[][] x = new float[12][FEATURES];
    float[][] y = new float[12][2];
    for (int i = 0; i < x.length; i++) {
      y[i][i % 2] = 1;
      for (int j = 0; j < FEATURES; j++) {
        x[i][j] = (float) (random.nextGaussian() + (i % 2 == 0 ? -0.5 : 0.5));
      }
    }
    List<DataSet> split = new DataSet(Nd4j.create(x), Nd4j.create(y)).batchBy(8);
    return new LocalDataset("synthetic", DatasetKind.GENOMIC, new long[] {FEATURES}, List.of("a", "b"), split.get(0),
        split.get(1));
  }

  /** Times each model download and update upload, and counts its chunk bytes. */
  private static final class Timing implements ClientInterceptor {
    private static final OperatingSystemMXBean OS =
        (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final List<Transfer> transfers;
    private final DoubleSupplier coordinatorCpu;

    Timing(List<Transfer> transfers, DoubleSupplier coordinatorCpu) {
      this.transfers = transfers;
      this.coordinatorCpu = coordinatorCpu;
    }

    @Override
    public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
      String name = method.getFullMethodName();
      if (!name.equals(DOWNLOAD) && !name.equals(UPLOAD)) {
        return next.newCall(method, options);
      }
      boolean down = name.equals(DOWNLOAD);
      AtomicLong bytes = new AtomicLong();
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        private long started;
        private long hospitalCpu;
        private double coordinatorCpuAtStart;

        @Override
        public void start(Listener<A> listener, Metadata headers) {
          started = System.nanoTime();
          hospitalCpu = OS.getProcessCpuTime();
          coordinatorCpuAtStart = coordinatorCpu.getAsDouble();
          super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
            @Override
            public void onMessage(A message) {
              if (message instanceof Chunk chunk) {
                bytes.addAndGet(chunk.getData().size());
              }
              super.onMessage(message);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
              transfers.add(new Transfer(down, bytes.get(), (System.nanoTime() - started) / 1e9, status,
                  (OS.getProcessCpuTime() - hospitalCpu) / 1e9, coordinatorCpu.getAsDouble() - coordinatorCpuAtStart));
              super.onClose(status, trailers);
            }
          }, headers);
        }

        @Override
        public void sendMessage(Q message) {
          if (message instanceof UpdateUploadMessage upload && upload.hasChunk()) {
            bytes.addAndGet(upload.getChunk().getData().size());
          }
          super.sendMessage(message);
        }
      };
    }
  }

  /** This JVM's largest heap after any garbage collection: an upper bound of its live set. */
  private static final class HeapPeak {
    private final AtomicLong peak = new AtomicLong();

    static HeapPeak watch() {
      HeapPeak heap = new HeapPeak();
      Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
          .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
      for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
        ((NotificationEmitter) collector).addNotificationListener((notification, handback) -> {
          if (notification.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
            long used = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData()).getGcInfo()
                .getMemoryUsageAfterGc().entrySet().stream().filter(e -> heapPools.contains(e.getKey()))
                .mapToLong(e -> e.getValue().getUsed()).sum();
            heap.peak.accumulateAndGet(used, Math::max);
          }
        }, null, null);
      }
      return heap;
    }

    long peakMegabytes() {
      return peak.get() >> 20;
    }
  }

  /** This process's resident memory (heap, and ND4J's off-heap parameters), sampled every 100 ms. */
  private static final class PeakResident {
    final AtomicLong peak = new AtomicLong();
    private Thread sampler;

    void start() {
      sampler = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          peak.accumulateAndGet(Pointer.physicalBytes(), Math::max);
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "resident-memory-sampler");
      sampler.setDaemon(true);
      sampler.start();
    }

    void stop() {
      if (sampler != null) {
        sampler.interrupt();
      }
    }
  }
}
