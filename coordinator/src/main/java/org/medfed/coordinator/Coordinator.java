package org.medfed.coordinator;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import java.io.IOException;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.medfed.coordinator.admin.AdminService;
import org.medfed.coordinator.round.JobManager;
import org.medfed.coordinator.round.RoundServices;
import org.medfed.coordinator.session.FederationService;
import org.medfed.coordinator.session.ModelPublisher;
import org.medfed.coordinator.session.NodeRegistry;
import org.medfed.coordinator.session.TaskBoard;
import org.medfed.coordinator.store.CheckpointStore;

/**
 * A running coordinator: the gRPC server with the federation and admin services, and the jobs.
 * The caller supplies the {@link ServerBuilder} (port, TLS, keepalive), so tests and production
 * differ only there. Agents send keepalive pings every 30 s: a Netty builder must permit that
 * ({@code permitKeepAliveTime(10, SECONDS)}, as {@code medfed serve} does) or gRPC closes their sessions.
 */
public final class Coordinator implements AutoCloseable {
  private final Server server;
  private final JobManager jobs;
  private final NodeRegistry nodes;

  private Coordinator(Server server, JobManager jobs, NodeRegistry nodes) {
    this.server = server;
    this.jobs = jobs;
    this.nodes = nodes;
  }

  public static Coordinator start(CoordinatorConfig config, ServerBuilder<?> builder) throws IOException {
    // Cold, secure aggregation runs several times slower until the JIT has compiled its code.
    org.medfed.secagg.protocol.WarmUp.startInBackground();
    Clock clock = Clock.systemUTC();
    NodeRegistry nodes = new NodeRegistry(clock);
    TaskBoard tasks = new TaskBoard(config.maxModelBytes());
    ModelPublisher models = new ModelPublisher(config.chunkSize());
    CheckpointStore checkpoints = new CheckpointStore(config.dataDir().resolve("jobs"));
    JobManager jobs = new JobManager(new RoundServices(nodes, tasks, models, checkpoints, clock));
    Server server = builder
        .addService(new FederationService(nodes, tasks, models, config.allowedNodes(),
            config.heartbeatInterval().toMillis()))
        .addService(new AdminService(jobs, nodes, checkpoints))
        .build()
        .start();
    return new Coordinator(server, jobs, nodes);
  }

  public int port() {
    return server.getPort();
  }

  public JobManager jobs() {
    return jobs;
  }

  public NodeRegistry nodes() {
    return nodes;
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    jobs.close();
    nodes.closeAll(Status.UNAVAILABLE.withDescription("coordinator shutting down"));
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
  }
}
