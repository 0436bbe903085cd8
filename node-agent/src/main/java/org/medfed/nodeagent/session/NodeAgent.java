package org.medfed.nodeagent.session;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.medfed.nodeagent.approval.ApprovalStore;
import org.medfed.nodeagent.approval.JobGate;
import org.medfed.nodeagent.baseline.LocalBaselines;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.privacy.PrivacyLedger;
import org.medfed.nodeagent.training.ControlVariateStore;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.proto.v1.AgentMessage;
import org.medfed.proto.v1.ApprovalState;
import org.medfed.proto.v1.CoordinatorMessage;
import org.medfed.proto.v1.EvaluateTask;
import org.medfed.proto.v1.FederationServiceGrpc;
import org.medfed.proto.v1.Heartbeat;
import org.medfed.proto.v1.Hello;
import org.medfed.proto.v1.JobDecision;
import org.medfed.proto.v1.JobProposal;
import org.medfed.proto.v1.TrainTask;
import org.medfed.trust.audit.AuditLog;
import org.medfed.trust.tls.CoordinatorChannels;
import org.medfed.trust.tls.TlsFiles;
import org.medfed.trust.tls.TlsProblems;
import org.medfed.wire.JobDigest;
import org.medfed.wire.ProtocolVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A hospital's node agent: keeps one outbound session to the coordinator, reconnecting with
 * exponential backoff and jitter, and runs the tasks it receives on worker threads, at most
 * {@code max_concurrent_tasks} at once. Given several coordinators (an active one and its
 * standbys), it dials the next one whenever a session fails or is refused by a standby, and backs
 * off only once it has tried them all, so it finds whichever took over.
 * Thread-safe; {@link #close()} stops it for good.
 */
public final class NodeAgent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeAgent.class);
  public static final String SOFTWARE_VERSION = "medfed-agent/0.1.0";

  private final AgentConfig config;
  private final CoordinatorChannels channel;
  private final Map<String, LocalDataset> datasets;
  private final TaskRunner tasks;
  private final SignedRoundKeys roundKeys;
  private final CoordinatorHeadWitness witness;
  private final Transfers transfers;
  private final AuditLog audit;
  private final ApprovalStore approvals;
  private final JobGate gate;
  private final AgentMetrics metrics;
  /** Jobs proposed to this agent that await the operator: job id to digest. */
  private final Map<String, String> awaiting = new ConcurrentHashMap<>();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
      daemon("medfed-agent-scheduler"));
  private final CompletableFuture<String> stopped = new CompletableFuture<>();
  private final CompletableFuture<Void> firstWelcome = new CompletableFuture<>();
  private final Object sendLock = new Object();
  private StreamObserver<AgentMessage> outbound;
  private ScheduledFuture<?> heartbeat;
  private int failedAttempts;
  private volatile boolean closing;

  /** An agent of one coordinator, dialled on {@code channel}. */
  public NodeAgent(AgentConfig config, ManagedChannel channel, List<LocalDataset> datasets, LocalTrainer trainer) {
    this(config, CoordinatorChannels.of(channel), datasets, trainer, AgentMetrics.unexposed());
  }

  /** An agent of the coordinators {@code channel} dials, tried in its order. */
  public NodeAgent(AgentConfig config, CoordinatorChannels channel, List<LocalDataset> datasets, LocalTrainer trainer) {
    this(config, channel, datasets, trainer, AgentMetrics.unexposed());
  }

  public NodeAgent(AgentConfig config, CoordinatorChannels channel, List<LocalDataset> datasets, LocalTrainer trainer,
      AgentMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    this.channel = channel;
    this.datasets = datasets.stream().collect(Collectors.toUnmodifiableMap(LocalDataset::name, Function.identity()));
    // Tasks of different jobs run side by side up to the hospital's declared limit; the coordinator
    // schedules rounds so that it never asks for more (see Hello.max_concurrent_tasks).
    ExecutorService worker = Executors.newFixedThreadPool(config.maxConcurrentTasks(),
        daemon("medfed-agent-worker-" + config.nodeId()));
    this.transfers = new Transfers(channel, 4L << 30);
    try {
      this.audit = AuditLog.open(config.stateDir().resolve("audit.log"), Clock.systemUTC());
      this.witness = new CoordinatorHeadWitness(audit);
    } catch (IOException e) {
      throw new IllegalStateException("agent '" + config.nodeId() + "': " + e.getMessage(), e);
    }
    this.approvals = new ApprovalStore(config.stateDir());
    this.gate = new JobGate(approvals, audit, config.autoApproveJobs(), config.approveCommand(),
        name -> Optional.ofNullable(this.datasets.get(name)).map(LocalDataset::trainSamples).orElse(0));
    this.roundKeys = new SignedRoundKeys(tlsMaterial(config), Clock.systemUTC());
    this.tasks = new TaskRunner(config.nodeId(), this.datasets, trainer, transfers, this::send, worker, gate,
        config.datasets().stream().collect(Collectors.toMap(DatasetDeclaration::name,
            d -> d.options().missingFeatures())), metrics, roundKeys,
        new PrivacyLedger(config.stateDir(), charge -> audit.append("PRIVACY_CHARGED", Map.of("dataset",
            charge.dataset(), "job", charge.jobId(), "round", charge.round(), "sample_rate", charge.sampleRate(),
            "noise_multiplier", charge.noiseMultiplier(), "steps", charge.steps()))),
        config.privacyBudgets(), new ControlVariateStore(config.stateDir()),
        new LocalBaselines(config.stateDir(), trainer));
    audit.append("AGENT_STARTED", Map.of("node", config.nodeId(), "mutual_tls", config.tls().isPresent(),
        "auto_approve_jobs", config.autoApproveJobs(), "datasets", List.copyOf(this.datasets.keySet())));
  }

  private static Optional<TlsFiles.Material> tlsMaterial(AgentConfig config) {
    try {
      return config.tls().isEmpty() ? Optional.empty() : Optional.of(config.tls().get().load());
    } catch (IOException e) {
      throw new IllegalStateException("agent '" + config.nodeId() + "': cannot read its TLS kit: " + e.getMessage(), e);
    }
  }

  /** The agent's own audit log. */
  public Path auditLog() {
    return audit.file();
  }

  private void onProposal(JobProposal proposal) {
    JobDecision answer;
    try {
      answer = gate.answer(proposal);
    } catch (RuntimeException e) {
      // The approvals file is unreadable or unwritable: refuse the job rather than end the session.
      log.error("job {}: cannot consult this hospital's approvals: {}", proposal.getJobId(), e.getMessage());
      answer = JobDecision.newBuilder().setJobId(proposal.getJobId()).setDigest(proposal.getDigest())
          .setState(ApprovalState.APPROVAL_REJECTED).setReason("the hospital's approval records are unavailable: "
              + e.getMessage()).build();
    }
    if (answer.getState() == ApprovalState.APPROVAL_PENDING) {
      awaiting.put(proposal.getJobId(), answer.getDigest());
    }
    send(AgentMessage.newBuilder().setDecision(answer).build());
  }

  /** Tells the coordinator as soon as the operator decided on a job that was waiting. */
  private void announceDecisions() {
    awaiting.forEach((jobId, digest) -> gate.decided(jobId, digest).ifPresent(answer -> {
      awaiting.remove(jobId);
      log.info("job {}: operator {} digest {}", jobId, answer.getState() == ApprovalState.APPROVAL_APPROVED
          ? "approved" : "rejected", JobDigest.shortForm(digest));
      send(AgentMessage.newBuilder().setDecision(answer).build());
    }));
  }

  public String nodeId() {
    return config.nodeId();
  }

  /** Starts connecting; returns at once. */
  public void start() {
    scheduler.execute(this::connect);
    scheduler.scheduleWithFixedDelay(this::announceDecisions, 1, 1, TimeUnit.SECONDS);
  }

  /** Completes when the coordinator first accepted this agent's hello. */
  public CompletableFuture<Void> connected() {
    return firstWelcome;
  }

  /** Completes with the reason once the agent stopped for good (closed, or refused by the coordinator). */
  public CompletableFuture<String> stopped() {
    return stopped;
  }

  private void connect() {
    if (closing) {
      return;
    }
    StreamObserver<AgentMessage> stream = FederationServiceGrpc.newStub(channel).connect(new Inbound());
    synchronized (sendLock) {
      outbound = stream;
    }
    send(AgentMessage.newBuilder().setHello(Hello.newBuilder()
        .setProtocolVersion(ProtocolVersion.CURRENT)
        .setNodeId(config.nodeId())
        .setSoftwareVersion(SOFTWARE_VERSION)
        .setMaxConcurrentTasks(config.maxConcurrentTasks())
        .addAllDatasets(datasets.values().stream().map(d -> Descriptors.toProto(d.descriptor())).toList()))
        .build());
  }

  private final class Inbound implements StreamObserver<CoordinatorMessage> {
    @Override
    public void onNext(CoordinatorMessage message) {
      switch (message.getBodyCase()) {
        case WELCOME -> onWelcome(message);
        case TRAIN -> {
          TrainTask task = message.getTrain();
          witness.witness(task.getAuditHead(), task.getJobId(), task.getRound());
          tasks.train(task);
        }
        case EVALUATE -> {
          EvaluateTask task = message.getEvaluate();
          witness.witness(task.getAuditHead(), task.getJobId(), task.getRound());
          tasks.evaluate(task);
        }
        case CANCEL -> tasks.cancel(message.getCancel().getTaskId(), message.getCancel().getReason());
        case SECAGG_DIRECTORY -> {
          // In the session's order, before any task thread reads it: later directories may name these.
          roundKeys.remember(message.getSecaggDirectory());
          tasks.deliver(message.getSecaggDirectory().getTaskId(), message);
        }
        case SECAGG_INBOX -> tasks.deliver(message.getSecaggInbox().getTaskId(), message);
        case SECAGG_SURVIVORS -> tasks.deliver(message.getSecaggSurvivors().getTaskId(), message);
        case SECAGG_UNMASK_REQUEST -> tasks.deliver(message.getSecaggUnmaskRequest().getTaskId(), message);
        case PROPOSAL -> onProposal(message.getProposal());
        case BODY_NOT_SET -> log.warn("ignoring an empty message from the coordinator");
      }
    }

    @Override
    public void onError(Throwable t) {
      Status status = Status.fromThrowable(t);
      tasks.cancelAll("session to the coordinator lost: " + status.getCode());
      if (closing) {
        return;
      }
      switch (status.getCode()) {
        case FAILED_PRECONDITION, PERMISSION_DENIED, UNAUTHENTICATED, INVALID_ARGUMENT -> {
          String reason = "coordinator refused node '" + config.nodeId() + "': " + status.getDescription();
          log.error(reason);
          audit.append("SESSION_REFUSED", Map.of("code", status.getCode().name(), "reason",
              String.valueOf(status.getDescription())));
          stopped.complete(reason);
          shutdownExecutors();
        }
        default -> scheduleReconnect(TlsProblems.explain(status, channel.current()).orElse(status.getCode()
            + (status.getDescription() == null ? "" : " (" + status.getDescription() + ")")));
      }
    }

    @Override
    public void onCompleted() {
      tasks.cancelAll("coordinator closed the session");
      if (!closing) {
        scheduleReconnect("coordinator closed the session");
      }
    }
  }

  private void onWelcome(CoordinatorMessage message) {
    if (firstWelcome.isDone()) {
      metrics.reconnecting();
    }
    metrics.connected(true);
    failedAttempts = 0;
    transfers.useChunkSize(message.getWelcome().getChunkSizeBytes());
    log.info("node '{}' connected to {} (session {})", config.nodeId(), channel.current(),
        message.getWelcome().getSessionId());
    long interval = message.getWelcome().getHeartbeatIntervalMillis() > 0
        ? message.getWelcome().getHeartbeatIntervalMillis() : config.heartbeatInterval().toMillis();
    scheduler.execute(() -> {
      if (heartbeat != null) {
        heartbeat.cancel(false);
      }
      heartbeat = scheduler.scheduleAtFixedRate(() -> send(AgentMessage.newBuilder()
          .setHeartbeat(Heartbeat.newBuilder().setSentAtMillis(System.currentTimeMillis())).build()),
          interval, interval, TimeUnit.MILLISECONDS);
    });
    firstWelcome.complete(null);
  }

  private void scheduleReconnect(String why) {
    metrics.connected(false);
    if (scheduler.isShutdown()) {
      return;
    }
    // Each address at the same step of the backoff: the coordinator that took over is found within
    // one round of them, however long the one that failed stays away.
    Duration delay = config.backoff().delay(failedAttempts++ / channel.size(), ThreadLocalRandom.current()::nextDouble);
    String lost = channel.current();
    String next = channel.moveOn();
    log.warn("node '{}': no session with the coordinator at {} ({}); reconnecting{} in {} ms", config.nodeId(), lost,
        why, next.equals(lost) ? "" : " to " + next, delay.toMillis());
    scheduler.execute(() -> {
      if (heartbeat != null) {
        heartbeat.cancel(false);
      }
    });
    scheduler.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** StreamObserver is not thread-safe; the worker, the heartbeat and gRPC all send through here. */
  void send(AgentMessage message) {
    synchronized (sendLock) {
      if (outbound == null) {
        return;
      }
      try {
        outbound.onNext(message);
      } catch (RuntimeException e) {
        log.debug("could not send {} to the coordinator: {}", message.getBodyCase(), e.getMessage());
      }
    }
  }

  Optional<LocalDataset> dataset(String name) {
    return Optional.ofNullable(datasets.get(name));
  }

  @Override
  public void close() {
    closing = true;
    tasks.cancelAll("agent shutting down");
    synchronized (sendLock) {
      if (outbound != null) {
        try {
          outbound.onCompleted();
        } catch (RuntimeException ignored) {
          // the stream may already be closed; nothing else to release
        }
      }
    }
    shutdownExecutors();
    channel.shutdown();
    try {
      // The session is half-closed and every task cancelled: nothing left is worth waiting 5 s for
      // (each close used to take exactly that, in every test that stops agents).
      if (!channel.awaitTermination(1, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      channel.shutdownNow();
    }
    stopped.complete("closed");
    try {
      audit.close();
    } catch (IOException e) {
      log.warn("closing the audit log failed: {}", e.getMessage());
    }
  }

  private void shutdownExecutors() {
    scheduler.shutdownNow();
    tasks.shutdown();
  }

  /** Daemon threads named {@code name}, then {@code name-2}, {@code name-3}, ... for a pool's later threads. */
  static ThreadFactory daemon(String name) {
    AtomicInteger made = new AtomicInteger();
    return runnable -> {
      int n = made.incrementAndGet();
      Thread thread = new Thread(runnable, n == 1 ? name : name + "-" + n);
      thread.setDaemon(true);
      return thread;
    };
  }
}
