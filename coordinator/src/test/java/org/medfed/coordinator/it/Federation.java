package org.medfed.coordinator.it;

import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.medfed.coordinator.Coordinator;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.LocalDataset;
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

/**
 * A real coordinator on a loopback port and real node agents dialling it over TCP, for end-to-end
 * tests. Interceptors let a test damage traffic the way a bad network would.
 */
final class Federation implements AutoCloseable {
  final Coordinator coordinator;
  private final List<NodeAgent> agents = new ArrayList<>();
  private final ManagedChannel adminChannel;
  final AdminServiceGrpc.AdminServiceBlockingStub admin;

  Federation(Path dataDir, CoordinatorConfig config, ServerInterceptor... interceptors) throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
    if (interceptors.length > 0) {
      builder.intercept(interceptors[0]);
    }
    coordinator = Coordinator.start(config, builder);
    adminChannel = channel();
    admin = AdminServiceGrpc.newBlockingStub(adminChannel);
  }

  Federation(Path dataDir) throws IOException {
    this(dataDir, CoordinatorConfig.defaults(dataDir));
  }

  ManagedChannel channel(ClientInterceptor... interceptors) {
    return NettyChannelBuilder.forAddress("127.0.0.1", coordinator.port()).usePlaintext()
        .intercept(interceptors).build();
  }

  NodeAgent agent(String nodeId, LocalDataset dataset) {
    return agent(nodeId, dataset, new Dl4jTrainer());
  }

  NodeAgent agent(String nodeId, LocalDataset dataset, LocalTrainer trainer, ClientInterceptor... interceptors) {
    return agent(nodeId, dataset, trainer, channel(interceptors));
  }

  NodeAgent agent(String nodeId, LocalDataset dataset, LocalTrainer trainer, ManagedChannel channel) {
    AgentConfig config = new AgentConfig(nodeId, "127.0.0.1", coordinator.port(),
        List.of(new DatasetDeclaration(dataset.name(), dataset.kind(), DatasetFormat.CSV_MATRIX,
            Path.of("in-memory"), dataset.classes())),
        new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), 2, 0.2), Duration.ofSeconds(1));
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
