package org.medfed.coordinator;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.medfed.coordinator.admin.AdminService;
import org.medfed.coordinator.approval.Approvals;
import org.medfed.coordinator.ops.CoordinatorMetrics;
import org.medfed.coordinator.ops.Dashboard;
import org.medfed.coordinator.round.HospitalSchedule;
import org.medfed.coordinator.round.JobManager;
import org.medfed.coordinator.round.RoundServices;
import org.medfed.coordinator.session.FederationService;
import org.medfed.coordinator.session.ModelPublisher;
import org.medfed.coordinator.session.NodeDirectory;
import org.medfed.coordinator.session.NodeRegistry;
import org.medfed.coordinator.session.TaskBoard;
import org.medfed.coordinator.store.AuditMirror;
import org.medfed.coordinator.store.CheckpointStore;
import org.medfed.coordinator.store.Database;
import org.medfed.coordinator.store.JobStore;
import org.medfed.coordinator.store.NodeStore;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.FederationServiceGrpc;
import org.medfed.secagg.protocol.WarmUp;
import org.medfed.telemetry.OpsEndpoint;
import org.medfed.telemetry.WireBytes;
import org.medfed.trust.audit.AuditLog;
import org.medfed.trust.pki.RevocationList;
import org.medfed.trust.pki.Role;
import org.medfed.trust.tls.PeerAuthorization;
import org.medfed.trust.tls.SecurityEvents;
import org.medfed.trust.tls.Tls;
import org.medfed.trust.tls.TlsFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running coordinator: the gRPC server with the federation and admin services, and the jobs.
 * The caller supplies the {@link NettyServerBuilder} (port, keepalive); TLS comes from the
 * configuration. Agents send keepalive pings every 30 s: a Netty builder must permit that
 * ({@code permitKeepAliveTime(10, SECONDS)}, as {@code medfed serve} does) or gRPC closes their sessions.
 */
public final class Coordinator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Coordinator.class);
  private final Server server;
  private final JobManager jobs;
  private final NodeRegistry nodes;

  private final RevocationList revocations;
  private final AuditLog audit;

  private final Database database;
  private final Optional<OpsEndpoint> http;

  private Coordinator(Server server, JobManager jobs, NodeRegistry nodes, RevocationList revocations, AuditLog audit,
      Database database, Optional<OpsEndpoint> http) {
    this.database = database;
    this.http = http;
    this.server = server;
    this.jobs = jobs;
    this.nodes = nodes;
    this.revocations = revocations;
    this.audit = audit;
  }

  /**
   * Starts the services on {@code builder}: with mutual TLS when the configuration has it (every
   * call then passes {@link PeerAuthorization}), in plaintext with a loud warning otherwise.
   */
  public static Coordinator start(CoordinatorConfig config, NettyServerBuilder builder) throws IOException {
    // Cold, secure aggregation runs several times slower until the JIT has compiled its code.
    WarmUp.startInBackground();
    Clock clock = Clock.systemUTC();
    Database database;
    try {
      database = Database.open(config.store());
    } catch (SQLException e) {
      throw new IOException(e.getMessage(), e);
    }
    AuditLog audit = AuditLog.open(config.auditLog(), clock);
    new AuditMirror(database).attach(audit);
    NodeRegistry nodes = new NodeRegistry(clock);
    SecurityEvents events = (subject, reason) -> {
      log.warn("refused {}: {}", subject, reason);
      audit.append("SECURITY_REFUSED", Map.of("subject", subject, "reason", reason));
    };
    RevocationList revocations = RevocationList.none();
    Optional<X509Certificate> consortiumCa = Optional.empty();
    if (config.tls().isPresent()) {
      CoordinatorConfig.Security security = config.tls().get();
      TlsFiles.Material material = security.files().load();
      consortiumCa = Optional.of(material.ca());
      AtomicReference<RevocationList> current = new AtomicReference<>(RevocationList.none());
      PeerAuthorization authorization = new PeerAuthorization(Map.of(
          FederationServiceGrpc.SERVICE_NAME, Role.HOSPITAL, AdminServiceGrpc.SERVICE_NAME, Role.ADMIN),
          current::get, clock, events);
      revocations = RevocationList.watch(security.revocationList(), material.ca(), security.revocationPoll(), list ->
          // A revoked node's open session ends within one poll interval, not at its next reconnect.
          nodes.closeWhere(session -> session.identity().flatMap(id -> authorization.problem(id,
              FederationServiceGrpc.SERVICE_NAME)).map(why -> {
                events.refused(session.identity().get().toString(), "open session closed: " + why);
                return why;
              }), Status.Code.UNAUTHENTICATED));
      current.set(revocations);
      builder.sslContext(Tls.server(material, events)).intercept(authorization);
      log.info("mutual TLS on: coordinator certificate {}, consortium CA '{}', revocation list {}",
          material.identity(), material.ca().getSubjectX500Principal().getName(), security.revocationList());
    } else {
      log.warn("**************************************************************************************");
      log.warn("INSECURE: plaintext mode. No TLS, no client certificates, no roles: anyone who can reach");
      log.warn("this port can act as any hospital or admin. For development on one machine only.");
      log.warn("**************************************************************************************");
    }
    audit.append("COORDINATOR_STARTED", Map.of("mutual_tls", config.tls().isPresent()));
    PrometheusMeterRegistry registry = OpsEndpoint.newRegistry();
    CoordinatorMetrics metrics = new CoordinatorMetrics(registry, nodes);
    builder.addStreamTracerFactory(new WireBytes(registry).server());
    TaskBoard tasks = new TaskBoard(config.maxModelBytes(), metrics::updateRejected);
    ModelPublisher models = new ModelPublisher(config.chunkSize());
    CheckpointStore checkpoints = new CheckpointStore(config.dataDir().resolve("jobs"));
    Approvals approvals = new Approvals(nodes, audit);
    JobManager jobs = new JobManager(new RoundServices(nodes, tasks, models, checkpoints, approvals, audit, clock,
        consortiumCa, new HospitalSchedule()), new JobStore(database));
    metrics.trackJobs(jobs::list);
    NodeStore nodeStore = new NodeStore(database);
    nodeStore.markAllDisconnected();
    NodeDirectory directory = new NodeDirectory(nodes, nodeStore);
    jobs.onJob(metrics::watch);
    // Loaded before the server answers, so no admin call finds a stored job missing; a resumed
    // round's selection then waits for the agents to reconnect.
    List<String> resumed = jobs.resumeStored();
    if (!resumed.isEmpty()) {
      log.info("resuming {} job(s) that were running when the coordinator stopped: {}", resumed.size(), resumed);
    }
    Server server;
    try {
      server = builder
          .addService(new FederationService(nodes, tasks, models, approvals, config.allowedNodes(),
              config.heartbeatInterval().toMillis()))
          .addService(new AdminService(jobs, nodes, directory, checkpoints, approvals))
          .build()
          .start();
    } catch (IOException e) {
      // The resumed jobs pause again (still running in the database) for the next start.
      jobs.close();
      database.close();
      throw e;
    }
    log.info("state in {}", config.store().describe());
    Optional<OpsEndpoint> http = Optional.empty();
    if (config.http().isPresent()) {
      OpsEndpoint endpoint = OpsEndpoint.start(config.http().get(), registry);
      new Dashboard(jobs, directory, approvals).mount(endpoint);
      http = Optional.of(endpoint);
      log.info("dashboard on http://{}:{}/ and Prometheus metrics on /metrics", endpoint.address().getHostString(),
          endpoint.address().getPort());
    }
    return new Coordinator(server, jobs, nodes, revocations, audit, database, http);
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

  /** Where the dashboard and /metrics listen, when they do. */
  public Optional<String> httpAddress() {
    return http.map(e -> e.address().getHostString() + ":" + e.address().getPort());
  }

  public Path auditLog() {
    return audit.file();
  }

  @Override
  public void close() {
    revocations.close();
    http.ifPresent(OpsEndpoint::close);
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
    try {
      audit.close();
    } catch (IOException e) {
      log.warn("closing the audit log failed: {}", e.getMessage());
    }
    database.close();
  }
}
