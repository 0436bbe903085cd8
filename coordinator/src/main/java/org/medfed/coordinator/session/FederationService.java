package org.medfed.coordinator.session;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.medfed.coordinator.approval.Approvals;
import org.medfed.proto.v1.AgentMessage;
import org.medfed.proto.v1.Chunk;
import org.medfed.proto.v1.CoordinatorMessage;
import org.medfed.proto.v1.FederationServiceGrpc;
import org.medfed.proto.v1.Hello;
import org.medfed.proto.v1.ModelDownloadRequest;
import org.medfed.proto.v1.UpdateUploadMessage;
import org.medfed.proto.v1.UploadHeader;
import org.medfed.proto.v1.UploadReceipt;
import org.medfed.proto.v1.Welcome;
import org.medfed.trust.pki.Identity;
import org.medfed.trust.tls.PeerAuthorization;
import org.medfed.wire.ChunkAssembler;
import org.medfed.wire.ChunkedPayload;
import org.medfed.wire.ProtocolVersion;
import org.medfed.wire.TransferKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agents' gRPC service: a thin adapter from the wire to {@link NodeRegistry}, {@link TaskBoard}
 * and {@link ModelPublisher}. Per-call state lives in the observers it returns.
 */
public final class FederationService extends FederationServiceGrpc.FederationServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(FederationService.class);
  private static final String NODE_ID_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";

  private final NodeRegistry registry;
  private final TaskBoard tasks;
  private final ModelPublisher models;
  private final Approvals approvals;
  private final Optional<Set<String>> allowedNodes;
  private final long heartbeatMillis;

  public FederationService(NodeRegistry registry, TaskBoard tasks, ModelPublisher models, Approvals approvals,
      Optional<Set<String>> allowedNodes, long heartbeatMillis) {
    this.registry = registry;
    this.approvals = approvals;
    this.tasks = tasks;
    this.models = models;
    this.allowedNodes = allowedNodes.map(Set::copyOf);
    this.heartbeatMillis = heartbeatMillis;
    registry.onDeparture(s -> tasks.nodeDeparted(s.nodeId(), "node '" + s.nodeId() + "' disconnected"));
  }

  @Override
  public StreamObserver<AgentMessage> connect(StreamObserver<CoordinatorMessage> responses) {
    var call = (ServerCallStreamObserver<CoordinatorMessage>) responses;
    Optional<Identity> identity = PeerAuthorization.current();
    Optional<X509Certificate> certificate = PeerAuthorization.currentCertificate();
    return new StreamObserver<>() {
      private NodeSession session;
      private boolean refused;

      @Override
      public void onNext(AgentMessage message) {
        if (refused) {
          return;
        }
        if (session == null) {
          Optional<Status> problem = checkHello(message, identity);
          if (problem.isPresent()) {
            refused = true;
            log.warn("refused a session: {}", problem.get().getDescription());
            call.onError(problem.get().asRuntimeException());
            return;
          }
          Hello hello = message.getHello();
          session = new NodeSession(UUID.randomUUID().toString(), hello.getNodeId(), hello.getSoftwareVersion(),
              hello.getDatasetsList(), registry.now(), identity, certificate, call, hello.getMaxConcurrentTasks());
          registry.register(session);
          log.info("node '{}' connected ({}, datasets {})", hello.getNodeId(), hello.getSoftwareVersion(),
              hello.getDatasetsList().stream().map(d -> d.getName() + "[" + d.getTrainSamples() + "]").toList());
          session.send(CoordinatorMessage.newBuilder().setWelcome(Welcome.newBuilder()
              .setSessionId(session.sessionId())
              .setProtocolVersion(ProtocolVersion.CURRENT)
              .setHeartbeatIntervalMillis(heartbeatMillis)
              .setChunkSizeBytes(models.chunkSize())).build());
          return;
        }
        registry.touch(session);
        String node = session.nodeId();
        switch (message.getBodyCase()) {
          case HEARTBEAT, BODY_NOT_SET -> { }
          case HELLO -> log.warn("node '{}' sent a second hello on one session; ignored", node);
          case DECLINED -> tasks.complete(node, message.getDeclined().getTaskId(),
              new TaskResult.Declined(message.getDeclined().getReason()));
          case FAILED -> tasks.complete(node, message.getFailed().getTaskId(),
              new TaskResult.Failed(message.getFailed().getReason()));
          case EVALUATION -> tasks.complete(node, message.getEvaluation().getTaskId(),
              new TaskResult.Evaluated(message.getEvaluation().getNumSamples(),
                  message.getEvaluation().getMetricsMap()));
          case SECAGG_KEYS -> tasks.secureStep(node, message.getSecaggKeys().getTaskId(), message);
          case SECAGG_SHARES -> tasks.secureStep(node, message.getSecaggShares().getTaskId(), message);
          case SECAGG_UNMASK -> tasks.secureStep(node, message.getSecaggUnmask().getTaskId(), message);
          case SECAGG_SURVIVOR_SIGNATURE -> tasks.secureStep(node, message.getSecaggSurvivorSignature().getTaskId(),
              message);
          case DECISION -> approvals.decided(node, message.getDecision());
        }
      }

      @Override
      public void onError(Throwable t) {
        if (session != null) {
          registry.unregister(session, "connection lost (" + Status.fromThrowable(t).getCode() + ")");
        }
      }

      @Override
      public void onCompleted() {
        if (session != null) {
          registry.unregister(session, "agent closed its session");
          session.close(Status.OK);
        } else if (!refused) {
          call.onCompleted();
        }
      }
    };
  }

  private Optional<Status> checkHello(AgentMessage message, Optional<Identity> identity) {
    if (!message.hasHello()) {
      return Optional.of(Status.INVALID_ARGUMENT.withDescription(
          "the first message of a session must be Hello, got " + message.getBodyCase()));
    }
    Hello hello = message.getHello();
    if (!ProtocolVersion.isSupported(hello.getProtocolVersion())) {
      return Optional.of(Status.FAILED_PRECONDITION.withDescription("protocol version "
          + hello.getProtocolVersion() + " is not supported; this coordinator supports versions "
          + ProtocolVersion.SUPPORTED + "; install an agent release that speaks one of them"));
    }
    if (!hello.getNodeId().matches(NODE_ID_PATTERN)) {
      return Optional.of(Status.INVALID_ARGUMENT.withDescription("node id '" + hello.getNodeId()
          + "' must be 1-64 letters, digits, '.', '_' or '-'"));
    }
    if (identity.isPresent() && !identity.get().name().equals(hello.getNodeId())) {
      return Optional.of(Status.PERMISSION_DENIED.withDescription("this connection's certificate is for '"
          + identity.get().name() + "' but its hello says node '" + hello.getNodeId()
          + "'; node_id in agent.yaml must be the name in the startup kit's certificate"));
    }
    if (allowedNodes.isPresent() && !allowedNodes.get().contains(hello.getNodeId())) {
      return Optional.of(Status.PERMISSION_DENIED.withDescription("node '" + hello.getNodeId()
          + "' is not on this coordinator's allow-list; ask the consortium operator to add it"));
    }
    if (hello.getMaxConcurrentTasks() < 0 || hello.getMaxConcurrentTasks() > ProtocolVersion.MAX_CONCURRENT_TASKS) {
      return Optional.of(Status.INVALID_ARGUMENT.withDescription("node '" + hello.getNodeId()
          + "' announced max_concurrent_tasks " + hello.getMaxConcurrentTasks() + "; it must be in 1.."
          + ProtocolVersion.MAX_CONCURRENT_TASKS + " (agent.yaml)"));
    }
    return Optional.empty();
  }

  @Override
  public void downloadModel(ModelDownloadRequest request, StreamObserver<Chunk> responses) {
    Optional<ChunkedPayload> found = models.find(request.getModelId());
    if (found.isEmpty()) {
      responses.onError(Status.NOT_FOUND.withDescription("model '" + request.getModelId()
          + "' is not available: the round that published it has ended").asRuntimeException());
      return;
    }
    ChunkedPayload payload = found.get();
    if (request.getStartChunk() < 0 || request.getStartChunk() >= payload.chunkCount()) {
      responses.onError(Status.OUT_OF_RANGE.withDescription("start_chunk " + request.getStartChunk()
          + " is outside 0.." + (payload.chunkCount() - 1)).asRuntimeException());
      return;
    }
    streamChunks(payload, request.getStartChunk(), (ServerCallStreamObserver<Chunk>) responses);
  }

  /** Streams chunks as fast as the client reads them, never buffering a whole model in gRPC. */
  public static void streamChunks(ChunkedPayload payload, int from, ServerCallStreamObserver<Chunk> call) {
    int[] next = {from};
    boolean[] done = {false};
    call.setOnCancelHandler(() -> done[0] = true);
    Runnable drain = () -> {
      while (!done[0] && call.isReady() && next[0] < payload.chunkCount()) {
        call.onNext(payload.chunk(next[0]++));
      }
      if (!done[0] && next[0] == payload.chunkCount()) {
        done[0] = true;
        call.onCompleted();
      }
    };
    call.setOnReadyHandler(drain);
    drain.run();
  }

  /** Upload messages asked for beyond the one being accepted. */
  static final int READ_AHEAD = 1;

  /** The task an upload call announced in its headers ({@link TransferKeys#UPLOAD_TASK}). */
  private static final Context.Key<String> UPLOAD_TASK = Context.key("medfed-upload-task");

  /** Puts an upload call's announced task in its context, for {@link #uploadUpdate} to read before any message. */
  public static final ServerInterceptor UPLOAD_TASK_HEADER = new ServerInterceptor() {
    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
        ServerCallHandler<Q, A> next) {
      String task = headers.get(TransferKeys.UPLOAD_TASK);
      return task == null ? next.startCall(call, headers)
          : Contexts.interceptCall(Context.current().withValue(UPLOAD_TASK, task), call, headers, next);
    }
  };

  @Override
  public StreamObserver<UpdateUploadMessage> uploadUpdate(StreamObserver<UploadReceipt> responses) {
    // Nothing is asked for until the announced task may upload (TaskBoard.whenUploadMayStart): a
    // masked upload waiting for its turn to be assembled is held back by flow control, at the agent,
    // not in the coordinator's memory. Then one message is kept asked for ahead of the one being
    // accepted, so gRPC reads the next chunk (and returns its flow-control credit to the agent)
    // while this one is hashed: the agent never waits for this thread, at the cost of one chunk.
    ServerCallStreamObserver<UploadReceipt> call = (ServerCallStreamObserver<UploadReceipt>) responses;
    call.disableAutoRequest();
    String announced = UPLOAD_TASK.get();
    return new StreamObserver<>() {
      private UploadHeader header;
      private volatile boolean finished;
      private int lastIndex = -1;

      {
        call.setOnCancelHandler(() -> finished = true);
        if (announced == null) {
          call.request(1 + READ_AHEAD);
        } else {
          tasks.whenUploadMayStart(announced, () -> call.request(1 + READ_AHEAD));
        }
      }

      @Override
      public void onNext(UpdateUploadMessage message) {
        if (finished) {
          return;
        }
        if (header == null) {
          if (!message.hasHeader()) {
            fail(Status.INVALID_ARGUMENT.withDescription("the first message of an upload must carry its header"),
                null);
            return;
          }
          if (announced != null && !announced.equals(message.getHeader().getTaskId())) {
            fail(Status.INVALID_ARGUMENT.withDescription("the upload's header names task '"
                + message.getHeader().getTaskId() + "' but its call announced task '" + announced + "'"), null);
            return;
          }
          header = message.getHeader();
        }
        lastIndex = message.getChunk().getIndex();
        TaskBoard.UploadStep step;
        try {
          step = tasks.acceptChunk(header, message.getChunk());
        } catch (ChunkAssembler.CorruptChunkException e) {
          log.warn("upload for task {}: {}", header.getTaskId(), e.getMessage());
          Metadata trailers = new Metadata();
          trailers.put(TransferKeys.RESUME_FROM, Integer.toString(e.index()));
          fail(Status.DATA_LOSS.withDescription(e.getMessage()), trailers);
          return;
        }
        if (step instanceof TaskBoard.UploadStep.Accepted accepted) {
          finished = true;
          responses.onNext(UploadReceipt.newBuilder().setTaskId(header.getTaskId())
              .setPayloadDigest(com.google.protobuf.ByteString.copyFrom(accepted.payloadDigest())).build());
          responses.onCompleted();
        } else if (step instanceof TaskBoard.UploadStep.Refused refused) {
          log.warn("{}", refused.status().getDescription());
          fail(refused.status(), null);
        } else {
          call.request(1);
        }
      }

      @Override
      public void onError(Throwable t) {
        // The partial upload stays with its task so that the agent can resume it.
        finished = true;
      }

      @Override
      public void onCompleted() {
        if (!finished) {
          Metadata trailers = new Metadata();
          trailers.put(TransferKeys.RESUME_FROM, Integer.toString(lastIndex + 1));
          fail(Status.DATA_LOSS.withDescription("upload ended after chunk " + lastIndex
              + " before its last chunk; resume from chunk " + (lastIndex + 1)), trailers);
        }
      }

      private void fail(Status status, Metadata trailers) {
        finished = true;
        responses.onError(status.asRuntimeException(trailers));
      }
    };
  }
}
