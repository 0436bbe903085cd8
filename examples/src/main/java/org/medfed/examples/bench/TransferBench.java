package org.medfed.examples.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
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
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import org.bytedeco.javacpp.Pointer;
import org.medfed.examples.Directories;
import org.medfed.examples.Kits;
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

  @Option(names = "--work-dir", defaultValue = "results-out/transfer", description = "Kits, state and logs.")
  Path work;

  /** One timed call: which way, bytes of chunk data, and seconds from the call's start to its close. */
  record Transfer(boolean down, long bytes, double seconds, Status status) {
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

    double tcpBefore = rawTcpMegabytesPerSecond(modelBytes);
    int port;
    try (var socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path kits = work.resolve("kits");
    new Provisioner(Clock.systemUTC()).provision(new ConsortiumFile("transfer", "127.0.0.1", port,
        List.of("127.0.0.1"), List.of("hospital"), List.of("analyst"), 2), kits);
    List<Transfer> transfers = new CopyOnWriteArrayList<>();
    PeakResident resident = new PeakResident();
    try (CoordinatorChild coordinator = new CoordinatorChild(work, kits, port, coordinatorHeap)) {
      long connectedHeap;
      NodeAgent agent = agent(port, kits, transfers);
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
      double tcpAfter = rawTcpMegabytesPerSecond(modelBytes);
      report(transfers, modelBytes, Math.max(tcpBefore, tcpAfter), tcpBefore, tcpAfter);
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

  private static void report(List<Transfer> transfers, long modelBytes, double tcp, double tcpBefore,
      double tcpAfter) {
    for (Transfer t : transfers) {
      System.out.printf(Locale.ROOT, "%-8s %8.1f MB in %6.2f s: %7.1f MB/s%s%n", t.down() ? "download" : "upload",
          t.bytes() / 1e6, t.seconds(), t.megabytesPerSecond(), t.status().isOk() ? "" : " (" + t.status() + ")");
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
    System.out.printf(Locale.ROOT, "raw loopback TCP, same bytes: %.0f MB/s before the job, %.0f MB/s after%n",
        tcpBefore, tcpAfter);
    System.out.printf(Locale.ROOT, "round trip (last round: download for training, then the upload): %.0f MB/s"
        + " (download %.0f, upload %.0f) = %.2f x raw loopback TCP (%.0f MB/s, the faster of the two)%n",
        roundTrip, down.megabytesPerSecond(), up.megabytesPerSecond(), roundTrip / tcp, tcp);
  }

  private NodeAgent agent(int port, Path kits, List<Transfer> transfers) throws IOException {
    TlsFiles tls = Kits.tls(kits.resolve("hospitals").resolve("hospital"), "hospital");
    LocalDataset data = synthetic();
    AgentConfig config = new AgentConfig("hospital", "127.0.0.1", port,
        List.of(new DatasetDeclaration(data.name(), data.kind(), DatasetFormat.CSV_MATRIX, Path.of("in-memory"),
            data.classes())),
        Backoff.defaults(), Duration.ofSeconds(30), Optional.of(tls), work.resolve("agent"), true, Optional.empty());
    ManagedChannel channel = Tls.channel("127.0.0.1", port, tls.load()).intercept(new Timing(transfers)).build();
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

  /**
   * Raw loopback TCP moving {@code bytes} from one socket to another in this JVM, in 1 MiB writes:
   * the best of three, in MB/s.
   */
  static double rawTcpMegabytesPerSecond(long bytes) throws Exception {
    double best = 0;
    byte[] block = new byte[1 << 20];
    new Random(3).nextBytes(block);
    for (int attempt = 0; attempt < 3; attempt++) {
      try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
          try (Socket socket = server.accept(); InputStream in = socket.getInputStream()) {
            byte[] buffer = new byte[1 << 20];
            long total = 0;
            for (int n; (n = in.read(buffer)) > 0; ) {
              total += n;
            }
            return total;
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        });
        long started = System.nanoTime();
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
            OutputStream out = socket.getOutputStream()) {
          for (long sent = 0; sent < bytes; sent += block.length) {
            out.write(block, 0, (int) Math.min(block.length, bytes - sent));
          }
        }
        long total = received.get(5, TimeUnit.MINUTES);
        best = Math.max(best, total / 1e6 / ((System.nanoTime() - started) / 1e9));
      }
    }
    return best;
  }

  /** Times each model download and update upload, and counts its chunk bytes. */
  private static final class Timing implements ClientInterceptor {
    private final List<Transfer> transfers;

    Timing(List<Transfer> transfers) {
      this.transfers = transfers;
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

        @Override
        public void start(Listener<A> listener, Metadata headers) {
          started = System.nanoTime();
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
              transfers.add(new Transfer(down, bytes.get(), (System.nanoTime() - started) / 1e9, status));
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
