package org.medfed.coordinator.session;

import com.google.protobuf.ByteString;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.medfed.proto.v1.AgentMessage;
import org.medfed.proto.v1.Chunk;
import org.medfed.proto.v1.UploadHeader;
import org.medfed.wire.ChunkAssembler;
import org.medfed.wire.Tensors;

/**
 * Tasks issued to nodes and not yet finished. Results arrive here from gRPC threads and complete
 * the task's future, which the round awaits. A task id is an unguessable token known only to the
 * node it was sent to, so an upload for an unknown id comes from a node that was not selected.
 * Thread-safe.
 */
public final class TaskBoard {
  private final Map<String, Issued> open = new ConcurrentHashMap<>();
  private final long maxUploadBytes;
  private final Runnable onRejected;
  private final UploadGate maskedUploads = new UploadGate(UploadGate.MASKED_ASSEMBLIES);

  /** @param onRejected told of each update refused by validation (for the metrics) */
  public TaskBoard(long maxUploadBytes, Runnable onRejected) {
    this.maxUploadBytes = maxUploadBytes;
    this.onRejected = onRejected;
  }

  public enum Kind { TRAIN, EVALUATE }

  /** A task handed to a node; {@link #result()} completes exactly once. */
  public static final class Issued {
    private final String taskId;
    private final String nodeId;
    private final Kind kind;
    private final Function<float[], Optional<String>> updateCheck;
    private final int maskedLength;
    private final CompletableFuture<TaskResult> result = new CompletableFuture<>();
    private final CompletableFuture<String> departed = new CompletableFuture<>();
    private final CompletableFuture<String> reportedFailed = new CompletableFuture<>();
    private final Map<AgentMessage.BodyCase, CompletableFuture<AgentMessage>> secureSteps = new ConcurrentHashMap<>();
    private ChunkAssembler upload;

    Issued(String taskId, String nodeId, Kind kind, Function<float[], Optional<String>> updateCheck, int maskedLength) {
      this.taskId = taskId;
      this.nodeId = nodeId;
      this.kind = kind;
      this.updateCheck = updateCheck;
      this.maskedLength = maskedLength;
    }

    /** Completes when the node sends its secure-aggregation message of this kind for this task. */
    public CompletableFuture<AgentMessage> secureStep(AgentMessage.BodyCase kind) {
      return secureSteps.computeIfAbsent(kind, k -> new CompletableFuture<>());
    }

    /** Completes with the reason when the node's session ends, even after its result arrived. */
    public CompletableFuture<String> departed() {
      return departed;
    }

    /**
     * Completes with the node's reason when it reports the task failed, even after its masked vector
     * arrived: a hospital that refuses a later secure-aggregation stage says why, at once.
     */
    public CompletableFuture<String> reportedFailed() {
      return reportedFailed;
    }

    public boolean isSecure() {
      return maskedLength > 0;
    }

    public String taskId() {
      return taskId;
    }

    public String nodeId() {
      return nodeId;
    }

    public Kind kind() {
      return kind;
    }

    public CompletableFuture<TaskResult> result() {
      return result;
    }
  }

  /**
   * @param updateCheck for training tasks: returns why an uploaded update is unacceptable, if it is
   */
  public Issued issue(String nodeId, Kind kind, Function<float[], Optional<String>> updateCheck) {
    Issued task = new Issued(UUID.randomUUID().toString(), nodeId, kind, updateCheck, 0);
    open.put(task.taskId, task);
    return task;
  }

  /** A training task whose update arrives masked, as {@code vectorLength} 32-bit integers. */
  public Issued issueSecure(String nodeId, int vectorLength) {
    Issued task = new Issued(UUID.randomUUID().toString(), nodeId, Kind.TRAIN, u -> Optional.empty(), vectorLength);
    open.put(task.taskId, task);
    // However the task ends, its partial upload and its place among the assemblies go; a delivered
    // vector's place only once the round has taken it into the sum (acceptMasked).
    task.result.whenComplete((result, error) -> {
      synchronized (task) {
        task.upload = null;
      }
      if (!(result instanceof TaskResult.Masked)) {
        maskedUploads.leave(task);
      }
    });
    return task;
  }

  /** A secure-aggregation message from a session; it counts only for a task issued to that node. */
  void secureStep(String nodeId, String taskId, AgentMessage message) {
    Issued task = open.get(taskId);
    if (task != null && task.nodeId.equals(nodeId) && task.isSecure()) {
      task.secureStep(message.getBodyCase()).complete(message);
    }
  }

  /** Forgets a task; a late result for it is then refused as not open. */
  public void retire(Issued task, TaskResult ifUnfinished) {
    open.remove(task.taskId);
    task.result.complete(ifUnfinished);
  }

  /** Results from a session count only for tasks that were issued to that same node. */
  void complete(String nodeId, String taskId, TaskResult result) {
    Issued task = open.get(taskId);
    if (task != null && task.nodeId.equals(nodeId)) {
      task.result.complete(result);
      if (result instanceof TaskResult.Failed failed) {
        task.reportedFailed.complete(failed.reason());
      }
    }
  }

  void nodeDeparted(String nodeId, String why) {
    open.values().stream().filter(t -> t.nodeId.equals(nodeId)).forEach(t -> {
      t.result.complete(new TaskResult.Failed(why));
      t.departed.complete(why);
    });
  }

  /** The outcome of one upload call, answered to the uploading agent. */
  sealed interface UploadStep {
    record NeedMore() implements UploadStep {}

    record Accepted(byte[] payloadDigest) implements UploadStep {}

    /** The whole update was refused and will not be aggregated. */
    record Refused(io.grpc.Status status) implements UploadStep {}
  }

  /**
   * Runs {@code start} when an upload for {@code taskId} may begin: at once, except for a masked
   * upload that would be assembled beside {@link UploadGate#MASKED_ASSEMBLIES} others, which waits
   * its turn.
   */
  void whenUploadMayStart(String taskId, Runnable start) {
    Issued task = open.get(taskId);
    if (task == null || !task.isSecure() || task.result.isDone()) {
      start.run();
    } else {
      maskedUploads.enter(task, start);
    }
  }

  /**
   * Feeds one uploaded chunk to its task. Corrupt chunks throw {@link ChunkAssembler.CorruptChunkException}
   * and leave the upload resumable from that chunk.
   */
  UploadStep acceptChunk(UploadHeader header, Chunk chunk) {
    Issued task = open.get(header.getTaskId());
    if (task == null || task.kind != Kind.TRAIN || task.result.isDone()) {
      return new UploadStep.Refused(io.grpc.Status.FAILED_PRECONDITION.withDescription("task '"
          + header.getTaskId() + "' is not open for an update: it was not issued to a selected node, or its "
          + "round has moved on; the update was not aggregated"));
    }
    Optional<ByteString> payload;
    synchronized (task) {
      if (task.upload == null || chunk.getIndex() == 0) {
        task.upload = new ChunkAssembler(maxUploadBytes);
      }
      try {
        payload = task.upload.accept(chunk);
      } catch (ChunkAssembler.CorruptChunkException e) {
        throw e;
      } catch (ChunkAssembler.TransferException e) {
        task.upload = null;
        return new UploadStep.Refused(io.grpc.Status.INVALID_ARGUMENT.withDescription(
            "upload for task '" + task.taskId + "' refused: " + e.getMessage()));
      }
    }
    if (payload.isEmpty()) {
      return new UploadStep.NeedMore();
    }
    synchronized (task) {
      task.upload = null;  // the payload is whole: the assembler's buffer is no longer needed
    }
    byte[] digest = chunk.getPayloadDigest().toByteArray();
    if (task.isSecure()) {
      return acceptMasked(task, payload.get(), digest);
    }
    Optional<String> problem = payload.get().size() % Float.BYTES != 0
        ? Optional.of("payload of " + payload.get().size() + " bytes is not a float32 vector")
        : Optional.empty();
    float[] update = problem.isPresent() ? new float[0] : Tensors.fromBytes(payload.get());
    if (problem.isEmpty()) {
      problem = task.updateCheck.apply(update);
    }
    if (header.getNumSamples() <= 0 && problem.isEmpty()) {
      problem = Optional.of("num_samples is " + header.getNumSamples() + "; an update must report the samples it used");
    }
    if (problem.isPresent()) {
      task.result.complete(new TaskResult.Rejected(problem.get()));
      onRejected.run();
      return new UploadStep.Refused(io.grpc.Status.INVALID_ARGUMENT.withDescription(
          "update for task '" + task.taskId + "' rejected and not aggregated: " + problem.get()));
    }
    task.result.complete(new TaskResult.Trained(update, header.getNumSamples(), header.getMetricsMap()));
    return new UploadStep.Accepted(digest);
  }

  private UploadStep acceptMasked(Issued task, ByteString payload, byte[] digest) {
    if (payload.size() != task.maskedLength * Integer.BYTES) {
      String problem = "masked update has " + payload.size() + " bytes, expected " + task.maskedLength * Integer.BYTES;
      task.result.complete(new TaskResult.Rejected(problem));
      onRejected.run();
      return new UploadStep.Refused(io.grpc.Status.INVALID_ARGUMENT.withDescription(
          "masked update for task '" + task.taskId + "' rejected: " + problem));
    }
    // complete() runs the round's consumer, which adds the vector to the sum, before it returns; only
    // then may the next upload allocate its buffer, so a vector and the next one's never coexist.
    task.result.complete(new TaskResult.Masked(payload.asReadOnlyByteBuffer().slice()));
    maskedUploads.leave(task);
    return new UploadStep.Accepted(digest);
  }

  int openCount() {
    return open.size();
  }
}
