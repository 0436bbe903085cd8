package org.medfed.coordinator;

import com.sun.net.httpserver.HttpExchange;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.util.MutableHandlerRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.medfed.coordinator.admin.AdminService;
import org.medfed.coordinator.approval.Approvals;
import org.medfed.coordinator.model.ModelCatalog;
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
import org.medfed.coordinator.store.StorageMonitor;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.FederationServiceGrpc;
import org.medfed.proto.v1.UpdateUploadMessage;
import org.medfed.secagg.protocol.WarmUp;
import org.medfed.telemetry.OpsEndpoint;
import org.medfed.telemetry.WireBytes;
import org.medfed.trust.audit.AuditLog;
import org.medfed.trust.pki.IdentitySignatures;
import org.medfed.trust.pki.RevocationList;
import org.medfed.trust.pki.Role;
import org.medfed.trust.tls.PeerAuthorization;
import org.medfed.trust.tls.SecurityEvents;
import org.medfed.trust.tls.Tls;
import org.medfed.trust.tls.TlsFiles;
import org.medfed.wire.AliasingMarshaller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running coordinator: the gRPC server with the federation and admin services, and the jobs.
 * The caller supplies the {@link NettyServerBuilder} (port, keepalive); TLS comes from the
 * configuration. Agents send keepalive pings every 30 s: a Netty builder must permit that
 * ({@code permitKeepAliveTime(10, SECONDS)}, as {@code medfed serve} does) or gRPC closes their sessions.
 *
 * <p>One coordinator drives the jobs of a store at a time: the one holding the store's lease
 * ({@link Leadership}). Another one started on the same store stands by: it listens, refuses
 * agents with UNAVAILABLE and admin calls with FAILED_PRECONDITION, both naming the holder, and
 * starts driving, as a freshly started coordinator would, once it has the lease. A coordinator
 * that loses the lease stops (see {@link #stopReason()}).
 */
public final class Coordinator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Coordinator.class);

  /**
   * The HTTP/2 window each upload stream gets: 4 MiB, room for several chunks in flight, so an
   * agent never waits for the coordinator's read of one chunk before sending the next (the default
   * 1 MiB holds less than one 1 MiB chunk). Bounded, because each hospital whose upload waits its
   * turn ({@code UploadGate}) may have this much sitting unread in the coordinator.
   */
  public static final int UPLOAD_WINDOW_BYTES = 4 << 20;

  /** What a coordinator that holds the lease runs. */
  private record Driving(JobManager jobs, AuditLog audit, StorageMonitor storage) {}

  private final CoordinatorConfig config;
  private final Server server;
  private final NodeRegistry nodes;
  private final RevocationList revocations;
  private final Database database;
  private final Optional<OpsEndpoint> http;
  private final CoordinatorMetrics metrics;
  private final Optional<X509Certificate> consortiumCa;
  private final MutableHandlerRegistry services;
  private final AtomicReference<AuditLog> auditLog;
  private final Clock clock;
  private volatile Leadership leadership;
  /** Set, under this object's lock, once the lease is held and the jobs are loaded. */
  private volatile Driving driving;
  private volatile boolean closed;
  private volatile boolean starting = true;
  private volatile String stopReason;

  private Coordinator(CoordinatorConfig config, Server server, NodeRegistry nodes, RevocationList revocations,
      Database database, Optional<OpsEndpoint> http, CoordinatorMetrics metrics, Optional<X509Certificate> consortiumCa,
      MutableHandlerRegistry services, AtomicReference<AuditLog> auditLog, Clock clock) {
    this.config = config;
    this.server = server;
    this.nodes = nodes;
    this.revocations = revocations;
    this.database = database;
    this.http = http;
    this.metrics = metrics;
    this.consortiumCa = consortiumCa;
    this.services = services;
    this.auditLog = auditLog;
    this.clock = clock;
  }

  /**
   * Starts the services on {@code builder}: with mutual TLS when the configuration has it (every
   * call then passes {@link PeerAuthorization}), in plaintext with a loud warning otherwise. Returns
   * driving the jobs when the store's lease was free, on standby otherwise ({@link #isActive()}).
   */
  public static Coordinator start(CoordinatorConfig config, NettyServerBuilder builder) throws IOException {
    // Cold, secure aggregation runs several times slower until the JIT has compiled its code.
    WarmUp.startInBackground(IdentitySignatures::warmUp);
    Clock clock = Clock.systemUTC();
    Database database;
    try {
      database = Database.open(config.store());
    } catch (SQLException e) {
      throw new IOException(e.getMessage(), e);
    }
    // The audit log opens only with the lease: two coordinators must never append to one chain.
    AtomicReference<AuditLog> auditLog = new AtomicReference<>();
    NodeRegistry nodes = new NodeRegistry(clock);
    SecurityEvents events = (subject, reason) -> {
      log.warn("refused {}: {}", subject, reason);
      Optional.ofNullable(auditLog.get()).ifPresent(audit -> audit.append("SECURITY_REFUSED",
          Map.of("subject", subject, "reason", reason)));
    };
    RevocationList revocations = RevocationList.none();
    Optional<X509Certificate> consortiumCa = Optional.empty();
    String name = "medfed-coordinator";
    if (config.tls().isPresent()) {
      CoordinatorConfig.Security security = config.tls().get();
      TlsFiles.Material material = security.files().load();
      consortiumCa = Optional.of(material.ca());
      name = material.identity().name();
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
    PrometheusMeterRegistry registry = OpsEndpoint.newRegistry();
    CoordinatorMetrics metrics = new CoordinatorMetrics(registry, nodes);
    builder.addStreamTracerFactory(new WireBytes(registry).server()).flowControlWindow(UPLOAD_WINDOW_BYTES);
    // Until this coordinator drives the jobs its services refuse every call; then the real ones replace them.
    // The refusals name the lease's holder, which only the coordinator built below can tell.
    MutableHandlerRegistry services = new MutableHandlerRegistry();
    AtomicReference<Coordinator> self = new AtomicReference<>();
    services.addService(Standby.refusing(FederationServiceGrpc.getServiceDescriptor(), () -> refusal(self.get(),
        Status.Code.UNAVAILABLE, "connect to that coordinator (this one takes over if it stops)")));
    services.addService(Standby.refusing(AdminServiceGrpc.getServiceDescriptor(), () -> refusal(self.get(),
        Status.Code.FAILED_PRECONDITION, "send admin commands to that coordinator")));
    Server server;
    try {
      server = builder.fallbackHandlerRegistry(services).build().start();
    } catch (IOException e) {
      revocations.close();
      database.close();
      throw e;
    }
    Optional<OpsEndpoint> http = Optional.empty();
    try {
      if (config.http().isPresent()) {
        http = Optional.of(OpsEndpoint.start(config.http().get(), registry));
      }
    } catch (IOException e) {
      server.shutdownNow();
      revocations.close();
      database.close();
      throw e;
    }
    Coordinator coordinator = new Coordinator(config, server, nodes, revocations, database, http, metrics,
        consortiumCa, services, auditLog, clock);
    self.set(coordinator);
    metrics.trackActive(coordinator::isActive);
    http.ifPresent(endpoint -> endpoint.handle("/readyz", coordinator::answerReadiness));
    log.info("state in {}", config.store().describe());
    http.ifPresent(e -> log.info("dashboard on http://{}:{}/ (once this coordinator drives the jobs) and Prometheus"
        + " metrics on /metrics", e.address().getHostString(), e.address().getPort()));
    try {
      coordinator.lead(name);
    } catch (IOException | RuntimeException e) {
      coordinator.close();
      throw e;
    }
    return coordinator;
  }

  /** Takes the lease and drives the jobs, or stands by until the lease is free. */
  private void lead(String name) throws IOException {
    Leadership lease = new Leadership(database, holderName(name, server.getPort()), config.leaseTtl(),
        this::stopBecause);
    leadership = lease;
    metrics.trackIdentity(lease.holder());
    boolean taken;
    try {
      taken = lease.tryTake();
    } catch (SQLException e) {
      throw new IOException("cannot take the store's lease in " + config.store().describe() + ": " + e.getMessage(),
          e);
    }
    if (taken) {
      drive();
      return;
    }
    starting = false;
    log.warn("standby: {} holds the store's lease and drives the jobs; this coordinator ({}) drives nothing and"
        + " takes over when that lease is free", lease.activeHolder(), lease.holder());
    Thread warmUp = new Thread(ModelCatalog::warmUp, "medfed-standby-warm-up");
    warmUp.setDaemon(true);
    warmUp.setPriority(Thread.MIN_PRIORITY);
    warmUp.start();
    lease.standBy(() -> {
      try {
        log.info("the store's lease is this coordinator's now: driving the jobs as a freshly started one would");
        drive();
      } catch (IOException | RuntimeException e) {
        stopBecause("took over the store's lease but cannot drive the jobs: " + e.getMessage());
      }
    });
  }

  /** What a freshly started coordinator does once it holds the lease: open the audit log, resume the jobs, serve. */
  private synchronized void drive() throws IOException {
    if (closed) {
      return;
    }
    starting = true;
    AuditLog audit = AuditLog.open(config.auditLog(), clock);
    auditLog.set(audit);
    AuditMirror mirror = new AuditMirror(database);
    mirror.attach(audit);
    audit.append("COORDINATOR_STARTED", Map.of("mutual_tls", config.tls().isPresent(), "holder", leadership.holder(),
        "lease_token", leadership.token().orElse(0L)));
    TaskBoard tasks = new TaskBoard(config.maxModelBytes(), metrics::updateRejected);
    ModelPublisher models = new ModelPublisher(config.chunkSize());
    // Checkpoint folders carry the lease token, so that this coordinator, should it be paused past its
    // lease and resumed after a standby took over, cannot replace what the new one writes.
    CheckpointStore checkpoints = new CheckpointStore(config.dataDir().resolve("jobs"), config.files(),
        leadership.token().orElse(0L));
    Approvals approvals = new Approvals(nodes, audit);
    // A full disk pauses jobs; this probe resumes them, checking after 1 s and then at most every 30 s.
    StorageMonitor storage = new StorageMonitor(checkpoints, database, mirror, clock, Duration.ofSeconds(1),
        Duration.ofSeconds(30));
    JobManager jobs = new JobManager(new RoundServices(nodes, tasks, models, checkpoints, approvals, audit, clock,
        consortiumCa, new HospitalSchedule()), new JobStore(database), storage);
    driving = new Driving(jobs, audit, storage);
    metrics.trackJobs(jobs::list);
    metrics.trackStorage(storage);
    NodeStore nodeStore = new NodeStore(database);
    nodeStore.markAllDisconnected();
    NodeDirectory directory = new NodeDirectory(nodes, nodeStore);
    jobs.onJob(metrics::watch);
    // Loaded before the services answer, so no admin call finds a stored job missing; a resumed
    // round's selection then waits for the agents to reconnect.
    List<String> resumed = jobs.resumeStored();
    if (!resumed.isEmpty()) {
      log.info("resuming {} job(s) that were running when the coordinator stopped: {}", resumed.size(), resumed);
    }
    // Uploaded chunks are parsed as views of the received bytes, not copied out of them again.
    services.addService(ServerInterceptors.intercept(AliasingMarshaller.requests(new FederationService(nodes, tasks,
        models, approvals, config.allowedNodes(), config.heartbeatInterval().toMillis()).bindService(),
        FederationServiceGrpc.getUploadUpdateMethod(), UpdateUploadMessage.getDefaultInstance()),
        FederationService.UPLOAD_TASK_HEADER));
    services.addService(new AdminService(jobs, directory, checkpoints, approvals, audit));
    Leadership lease = leadership;
    http.ifPresent(endpoint -> new Dashboard(jobs, directory, approvals, storage, lease::activeHolder).mount(endpoint));
    starting = false;
    log.info("active: this coordinator ({}) holds the store's lease (token {}) and drives the jobs",
        leadership.holder(), leadership.token().orElse(0L));
  }

  /**
   * {@code /readyz}: 200 once this coordinator drives the jobs, 503 on standby or while it takes the
   * lease and loads the jobs. A load balancer or Kubernetes Service that checks it sends traffic
   * (the dashboard) only to the active coordinator; {@code /healthz} says the process is up either way.
   */
  private void answerReadiness(HttpExchange exchange) throws IOException {
    Leadership lease = leadership;
    if (isActive() && !starting) {
      OpsEndpoint.respond(exchange, 200, "text/plain; charset=utf-8", "active: " + lease.holder() + "\n");
    } else if (lease == null || starting) {
      OpsEndpoint.respond(exchange, 503, "text/plain; charset=utf-8", "starting: taking the store's lease and"
          + " loading its jobs\n");
    } else {
      OpsEndpoint.respond(exchange, 503, "text/plain; charset=utf-8", "standby: " + lease.activeHolder()
          + " holds the store's lease and drives the jobs\n");
    }
  }

  private static Status refusal(Coordinator coordinator, Status.Code code, String fix) {
    Leadership lease = coordinator == null ? null : coordinator.leadership;
    if (lease == null || coordinator.starting) {
      return Status.UNAVAILABLE.withDescription("the coordinator is starting: taking the store's lease and loading"
          + " its jobs; try again in a moment");
    }
    return Status.fromCode(code).withDescription("this coordinator (" + lease.holder() + ") is on standby and drives"
        + " no jobs: " + lease.activeHolder() + " holds the store's lease; " + fix);
  }

  /** The lease is gone, or taking it over failed: stop, so that only the holder drives the jobs. */
  private void stopBecause(String why) {
    stopReason = why;
    log.error("{}; stopping this coordinator", why);
    // Not on the lease's timer thread, which close() stops and waits for.
    new Thread(this::close, "medfed-lease-lost").start();
  }

  /** "coordinator 'name' on host:port (pid 123)": what an operator recognises in a standby's message. */
  static String holderName(String name, int port) {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "unknown-host";
    }
    return "coordinator '" + name + "' on " + host + ":" + port + " (pid " + ProcessHandle.current().pid() + ")";
  }

  public int port() {
    return server.getPort();
  }

  /** Whether this coordinator holds the store's lease and drives the jobs (false on standby). */
  public boolean isActive() {
    return driving != null && !closed && leadership.token().isPresent();
  }

  /**
   * The jobs this coordinator drives.
   *
   * @throws IllegalStateException on standby, naming the coordinator that drives them
   */
  public JobManager jobs() {
    return driving().jobs();
  }

  private Driving driving() {
    Driving driven = driving;
    if (driven == null) {
      throw new IllegalStateException("this coordinator is on standby and drives no jobs: "
          + (leadership == null ? "it has not started" : leadership.activeHolder() + " holds the store's lease"));
    }
    return driven;
  }

  /** How operators recognise this coordinator in a standby's messages and the lease table. */
  public String holder() {
    return leadership.holder();
  }

  /** Who holds the store's lease now, for messages: this coordinator or the one it stands by for. */
  public String activeHolder() {
    return leadership.activeHolder();
  }

  /** Why the coordinator stopped by itself (it lost the store's lease), if it did. */
  public Optional<String> stopReason() {
    return Optional.ofNullable(stopReason);
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
    return config.auditLog();
  }

  @Override
  public void close() {
    Driving driven;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      driven = driving;
    }
    revocations.close();
    http.ifPresent(OpsEndpoint::close);
    if (driven != null) {
      // The jobs pause while the lease is still held, so their last steps are stored.
      driven.storage().close();
      driven.jobs().close();
    }
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
    if (driven != null) {
      try {
        driven.audit().close();
      } catch (IOException e) {
        log.warn("closing the audit log failed: {}", e.getMessage());
      }
    }
    if (leadership != null) {
      leadership.close();
    }
    database.close();
  }
}
