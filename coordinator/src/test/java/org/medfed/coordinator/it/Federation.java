package org.medfed.coordinator.it;

import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.ServerInterceptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.medfed.coordinator.Coordinator;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.coordinator.cli.MedfedCli;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.DatasetLoaders;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.privacy.PrivacyBudget;
import org.medfed.nodeagent.session.AgentConfig;
import org.medfed.nodeagent.session.Backoff;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.JobSummary;
import org.medfed.proto.v1.SubmitJobRequest;
import org.medfed.trust.pki.CertificateAuthority;
import org.medfed.trust.pki.Role;
import org.medfed.trust.tls.TlsFiles;

/**
 * A real coordinator on a loopback port and real node agents dialling it over TCP with mutual TLS,
 * as in production: a throw-away consortium CA issues the coordinator's, the admin's and each
 * agent's certificate. Agents auto-approve jobs unless a test asks otherwise. Interceptors let a
 * test damage traffic the way a bad network would.
 */
final class Federation implements AutoCloseable {
  final Coordinator coordinator;
  final Path dataDir;
  final CertificateAuthority ca;
  private final TestPki pki;
  private final List<NodeAgent> agents = new ArrayList<>();
  private final ManagedChannel adminChannel;
  final AdminServiceGrpc.AdminServiceBlockingStub admin;

  Federation(Path dataDir, CoordinatorConfig config, ServerInterceptor... interceptors) throws IOException {
    this.dataDir = dataDir;
    pki = new TestPki(dataDir);
    ca = pki.ca;
    TlsFiles coordinatorFiles = issue("coordinator", Role.COORDINATOR, List.of("127.0.0.1", "localhost"));
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
    if (interceptors.length > 0) {
      builder.intercept(interceptors[0]);
    }
    coordinator = Coordinator.start(config.withTls(new CoordinatorConfig.Security(coordinatorFiles, ca.crlFile(),
        Duration.ofMillis(200))), builder);
    adminChannel = channel(issue("admin", Role.ADMIN, List.of()), "127.0.0.1");
    admin = AdminServiceGrpc.newBlockingStub(adminChannel);
  }

  Federation(Path dataDir) throws IOException {
    this(dataDir, CoordinatorConfig.defaults(dataDir));
  }

  /** Issues a certificate valid now for a day and writes it as a startup kit would hold it. */
  TlsFiles issue(String name, Role role, List<String> hostNames) {
    return pki.issue(name, role, hostNames);
  }

  TlsFiles issue(String name, Role role, List<String> hostNames, Instant notBefore, Instant notAfter) {
    return pki.issue(name, role, hostNames, notBefore, notAfter);
  }

  /** An admin kit file for `medfed --kit`, with a fresh admin certificate. */
  Path adminKit() throws IOException {
    TlsFiles files = issue("admin-cli", Role.ADMIN, List.of());
    Path kit = dataDir.resolve("admin-kit.yaml");
    Files.writeString(kit, "coordinator: 127.0.0.1:" + coordinator.port() + "\ntls: {certificate: "
        + files.certificate() + ", private_key: " + files.privateKey() + ", ca: " + files.ca() + "}\n");
    return kit;
  }

  /** A channel with a fresh hospital certificate for {@code nodeId}. */
  ManagedChannel channel(String nodeId, ClientInterceptor... interceptors) {
    return channel(kit(nodeId), "127.0.0.1", interceptors);
  }

  /** A channel presenting {@code files}, dialling the coordinator by {@code host}. */
  ManagedChannel channel(TlsFiles files, String host, ClientInterceptor... interceptors) {
    return TestPki.channel(files, host, coordinator.port(), interceptors);
  }

  NodeAgent agent(String nodeId, LocalDataset dataset) {
    return agent(nodeId, dataset, new Dl4jTrainer());
  }

  NodeAgent agent(String nodeId, LocalDataset dataset, LocalTrainer trainer, ClientInterceptor... interceptors) {
    TlsFiles kit = kit(nodeId);
    return agent(nodeId, dataset, trainer, kit, channel(kit, "127.0.0.1", interceptors));
  }

  /** An agent holding {@code kit} and talking over {@code channel}, which must present that kit. */
  NodeAgent agent(String nodeId, LocalDataset dataset, LocalTrainer trainer, TlsFiles kit, ManagedChannel channel) {
    return start(config(nodeId, dataset, true, kit), dataset, trainer, channel);
  }

  /** An auto-approving agent that runs up to {@code maxConcurrentTasks} tasks of different jobs at once. */
  NodeAgent agent(String nodeId, LocalDataset dataset, int maxConcurrentTasks) {
    TlsFiles kit = kit(nodeId);
    return start(config(nodeId, dataset, true, kit).withMaxConcurrentTasks(maxConcurrentTasks), dataset,
        new Dl4jTrainer(), channel(kit, "127.0.0.1"));
  }

  /** An auto-approving agent whose dataset carries a privacy budget for DP jobs. */
  NodeAgent agent(String nodeId, LocalDataset dataset, PrivacyBudget budget) {
    TlsFiles kit = kit(nodeId);
    return start(config(nodeId, dataset, true, kit).withPrivacyBudget(dataset.name(), budget), dataset,
        new Dl4jTrainer(), channel(kit, "127.0.0.1"));
  }

  /** A fresh hospital startup kit for {@code nodeId}. */
  TlsFiles kit(String nodeId) {
    return issue(nodeId, Role.HOSPITAL, List.of());
  }

  /** An agent whose operator decides on jobs (no auto-approval), with its state under {@link #stateDir}. */
  NodeAgent agentAwaitingApproval(String nodeId, LocalDataset dataset) {
    TlsFiles kit = kit(nodeId);
    return start(config(nodeId, dataset, false, kit), dataset, new Dl4jTrainer(), channel(kit, "127.0.0.1"));
  }

  /** An auto-approving agent presenting {@code kit}, started but not waited for: for agents the coordinator refuses. */
  NodeAgent agentNotAwaited(String nodeId, LocalDataset dataset, TlsFiles kit) {
    NodeAgent agent = new NodeAgent(config(nodeId, dataset, true, kit), channel(kit, "127.0.0.1"), List.of(dataset),
        new Dl4jTrainer());
    agents.add(agent);
    agent.start();
    return agent;
  }

  /** An auto-approving agent whose dataset is read from files by the agent's own loaders, as declared. */
  NodeAgent agentFromFiles(String nodeId, DatasetDeclaration declaration) {
    TlsFiles kit = kit(nodeId);
    AgentConfig base = config(nodeId, Blobs.dataset(declaration.name(), 1, 2, 1, 2), true, kit);
    AgentConfig config = new AgentConfig(nodeId, "127.0.0.1", coordinator.port(), List.of(declaration),
        base.backoff(), base.heartbeatInterval(), base.tls(), base.stateDir(), true, base.source());
    NodeAgent agent = new NodeAgent(config, channel(kit, "127.0.0.1"), List.of(DatasetLoaders.load(declaration)),
        new Dl4jTrainer());
    agents.add(agent);
    agent.start();
    agent.connected().orTimeout(30, TimeUnit.SECONDS).join();
    return agent;
  }

  Path stateDir(String nodeId) {
    return dataDir.resolve("agents").resolve(nodeId).resolve("state");
  }

  private AgentConfig config(String nodeId, LocalDataset dataset, boolean autoApprove, TlsFiles kit) {
    return agentConfig(nodeId, dataset, coordinator.port(), stateDir(nodeId), autoApprove, kit);
  }

  /**
   * An agent of {@code dataset} presenting {@code kit} (it signs its secure-aggregation keys with the
   * same certificate) and dialling 127.0.0.1:{@code port}, reconnecting within a second.
   */
  static AgentConfig agentConfig(String nodeId, LocalDataset dataset, int port, Path stateDir, boolean autoApprove,
      TlsFiles kit) {
    return new AgentConfig(nodeId, "127.0.0.1", port,
        List.of(new DatasetDeclaration(dataset.name(), dataset.kind(),
            dataset.classes().isEmpty() ? DatasetFormat.CSV_SURVIVAL : DatasetFormat.CSV_MATRIX,
            Path.of("in-memory"), dataset.classes())),
        new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), 2, 0.2), Duration.ofSeconds(1),
        Optional.of(kit), stateDir, autoApprove, Optional.empty());
  }

  private NodeAgent start(AgentConfig config, LocalDataset dataset, LocalTrainer trainer, ManagedChannel channel) {
    NodeAgent agent = new NodeAgent(config, channel, List.of(dataset), trainer);
    agents.add(agent);
    agent.start();
    agent.connected().orTimeout(30, TimeUnit.SECONDS).join();
    return agent;
  }

  JobSummary submit(String document) {
    return admin.submitJob(SubmitJobRequest.newBuilder().setJobDocument(document).build());
  }

  /** Follows the job's events until it ends; returns them all. Bounded by a deadline, never hangs. */
  List<JobEvent> watch(String jobId, Duration limit) {
    List<JobEvent> events = new ArrayList<>();
    Iterator<JobEvent> stream = admin.withDeadlineAfter(limit.toMillis(), TimeUnit.MILLISECONDS)
        .watchJob(GetJobRequest.newBuilder().setJobId(jobId).build());
    stream.forEachRemaining(events::add);
    return events;
  }

  /** The model zip as `medfed download` fetches it: round 0 is the job's kept round. */
  byte[] download(String jobId, int round) {
    return MedfedCli.downloadModel(admin, jobId, round);
  }

  JobDetail job(String jobId) {
    return admin.getJob(GetJobRequest.newBuilder().setJobId(jobId).build());
  }

  static boolean ended(JobState state) {
    return state == JobState.SUCCEEDED || state == JobState.FAILED || state == JobState.CANCELLED;
  }

  @Override
  public void close() {
    agents.forEach(NodeAgent::close);
    adminChannel.shutdownNow();
    coordinator.close();
  }

}
