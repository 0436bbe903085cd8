package org.medfed.examples.results;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.medfed.coordinator.Coordinator;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.coordinator.cli.MedfedCli;
import org.medfed.examples.Directories;
import org.medfed.examples.Kits;
import org.medfed.models.archive.ModelArchive;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.AgentConfig;
import org.medfed.nodeagent.session.Backoff;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.SubmitJobRequest;
import org.medfed.trust.provision.ConsortiumFile;
import org.medfed.trust.provision.Provisioner;
import org.medfed.trust.tls.Tls;
import org.medfed.trust.tls.TlsFiles;

/**
 * A coordinator and one agent per hospital in this JVM, talking gRPC with mutual TLS on loopback
 * from a throw-away consortium (agents approve jobs automatically), for the benchmark runners.
 * Hospital k is {@code site-k}; its dataset was loaded by the agent's own loaders.
 */
final class InProcessConsortium implements AutoCloseable {
  private final Coordinator coordinator;
  private final List<NodeAgent> agents = new ArrayList<>();
  private final ManagedChannel adminChannel;
  private final AdminServiceGrpc.AdminServiceBlockingStub admin;
  private final Path work;

  InProcessConsortium(Path work, String name, List<DatasetDeclaration> declarations, List<LocalDataset> datasets)
      throws IOException {
    this.work = work;
    Path kits = work.resolve("kits");
    Directories.deleteRecursively(kits);
    int port;
    try (var socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    List<String> sites = new ArrayList<>();
    for (int k = 0; k < declarations.size(); k++) {
      sites.add("site-" + k);
    }
    new Provisioner(Clock.systemUTC()).provision(new ConsortiumFile(name, "127.0.0.1", port, List.of("127.0.0.1"), sites,
        List.of("analyst"), 2), kits);
    Path data = work.resolve("coordinator");
    Directories.deleteRecursively(data);
    coordinator = Coordinator.start(CoordinatorConfig.defaults(data).withTls(new CoordinatorConfig.Security(
        Kits.tls(kits.resolve("coordinator"), "coordinator"), kits.resolve("coordinator/revoked.crl"), Duration.ofSeconds(1))),
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)));
    for (int k = 0; k < sites.size(); k++) {
      String id = sites.get(k);
      TlsFiles tls = Kits.tls(kits.resolve("hospitals").resolve(id), id);
      AgentConfig config = new AgentConfig(id, "127.0.0.1", port, List.of(declarations.get(k)), Backoff.defaults(),
          Duration.ofSeconds(5), Optional.of(tls), work.resolve("agents").resolve(id), true, Optional.empty());
      NodeAgent agent = new NodeAgent(config, Tls.channel("127.0.0.1", port, tls.load()).build(),
          List.of(datasets.get(k)), new Dl4jTrainer());
      agent.start();
      agents.add(agent);
    }
    for (NodeAgent agent : agents) {
      agent.connected().orTimeout(60, TimeUnit.SECONDS).join();
    }
    adminChannel = Tls.channel("127.0.0.1", port, Kits.tls(kits.resolve("admins/analyst"), "analyst").load()).build();
    admin = AdminServiceGrpc.newBlockingStub(adminChannel);
  }

  /** Runs a job to the end and returns its final (last round's) global model. */
  MultiLayerNetwork run(String job) throws IOException {
    return run(job, detail -> { });
  }

  /** As {@link #run(String)}, handing the job's record (rounds, metrics) to {@code onDone} first. */
  MultiLayerNetwork run(String job, Consumer<JobDetail> onDone) throws IOException {
    return archive(job, onDone).network();
  }

  /**
   * As {@link #run(String)}, with what the model zip says of its inputs: a consortium-zscore job's
   * model expects features z-scored with the consortium's statistics first.
   */
  ModelArchive.Opened archive(String job) throws IOException {
    return archive(job, detail -> { });
  }

  private ModelArchive.Opened archive(String job, Consumer<JobDetail> onDone) throws IOException {
    String id = admin.submitJob(SubmitJobRequest.newBuilder().setJobDocument(job).build()).getJobId();
    // Full-size runs (MNIST, 60,000 images a round on two cores) take hours, not minutes.
    Iterator<JobEvent> events = admin.withDeadlineAfter(24, TimeUnit.HOURS)
        .watchJob(GetJobRequest.newBuilder().setJobId(id).build());
    events.forEachRemaining(InProcessConsortium::printProgress);
    JobDetail detail = admin.getJob(GetJobRequest.newBuilder().setJobId(id).build());
    if (detail.getSummary().getState() != JobState.SUCCEEDED) {
      throw new IllegalStateException("federated job failed: " + detail.getSummary().getMessage());
    }
    onDone.accept(detail);
    // The last round, as the published figures compare final models: the job's kept round is chosen on
    // the hospitals' test splits, which would leak the very sets the benchmarks score on.
    int last = detail.getRounds(detail.getRoundsCount() - 1).getRound();
    Path zip = Files.write(Files.createDirectories(work.resolve("models")).resolve(id + ".zip"),
        MedfedCli.downloadModel(admin, id, last));
    return ModelArchive.read(zip);
  }

  /** One line per completed round, so a long run shows its curve as it goes. */
  private static void printProgress(JobEvent event) {
    if (event.getPhase().equals("ROUND_COMPLETED")) {
      System.out.printf(Locale.ROOT, "  %tT round %d: %s%n", event.getAtUnixMillis(), event.getRound(),
          new TreeMap<>(event.getMetricsMap()));
    }
  }



  @Override
  public void close() {
    adminChannel.shutdownNow();
    agents.forEach(NodeAgent::close);
    coordinator.close();
  }
}
