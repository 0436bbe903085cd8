package org.medfed.nodeagent.session;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.security.MessageDigest;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.medfed.proto.v1.Chunk;
import org.medfed.proto.v1.FederationServiceGrpc;
import org.medfed.proto.v1.ModelDownloadRequest;
import org.medfed.proto.v1.UpdateUploadMessage;
import org.medfed.proto.v1.UploadHeader;
import org.medfed.proto.v1.UploadReceipt;
import org.medfed.wire.AliasingMarshaller;
import org.medfed.wire.ChunkAssembler;
import org.medfed.wire.ChunkedPayload;
import org.medfed.wire.Digests;
import org.medfed.wire.TransferKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of chunked model transfers. Both directions resume from the last good chunk
 * after a damaged chunk or a dropped connection, up to {@link #MAX_ATTEMPTS} tries.
 */
final class Transfers {
  private static final Logger log = LoggerFactory.getLogger(Transfers.class);
  static final int MAX_ATTEMPTS = 5;

  /** Downloaded chunks are parsed as views of the received bytes, not copied out of them again. */
  private static final MethodDescriptor<ModelDownloadRequest, Chunk> DOWNLOAD =
      AliasingMarshaller.responses(FederationServiceGrpc.getDownloadModelMethod(), Chunk.getDefaultInstance());

  private final io.grpc.Channel channel;
  private final FederationServiceGrpc.FederationServiceStub async;
  private final long maxModelBytes;
  private volatile int chunkSize = ChunkedPayload.DEFAULT_CHUNK_SIZE;

  Transfers(io.grpc.Channel channel, long maxModelBytes) {
    this.async = FederationServiceGrpc.newStub(channel);
    this.channel = channel;
    this.maxModelBytes = maxModelBytes;
  }

  /** Follows the chunk size the coordinator announced in its welcome. */
  void useChunkSize(int bytes) {
    if (bytes > 0) {
      chunkSize = bytes;
    }
  }

  /** The model's bytes, a view of the array they were assembled in (decode them with {@code Tensors.fromBytes}). */
  ByteString download(String modelId, Deadline deadline) {
    ChunkAssembler assembler = new ChunkAssembler(maxModelBytes);
    for (int attempt = 1; ; attempt++) {
      int from = assembler.nextIndex();
      try (Context.CancellableContext context = Context.current().withCancellation()) {
        Context previous = context.attach();
        try {
          Iterator<Chunk> chunks = ClientCalls.blockingServerStreamingCall(channel, DOWNLOAD,
              CallOptions.DEFAULT.withDeadline(deadline),
              ModelDownloadRequest.newBuilder().setModelId(modelId).setStartChunk(from).build());
          while (chunks.hasNext()) {
            Optional<ByteString> payload = assembler.accept(chunks.next());
            if (payload.isPresent()) {
              return payload.get();
            }
          }
          throw new ChunkAssembler.TransferException("model " + modelId + " ended after chunk "
              + (assembler.nextIndex() - 1) + " without its remaining chunks");
        } finally {
          context.detach(previous);
        }
      } catch (ChunkAssembler.CorruptChunkException e) {
        retryOrThrow(attempt, "download of model " + modelId, e.getMessage(), e);
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
          throw e;
        }
        retryOrThrow(attempt, "download of model " + modelId, e.getStatus().getDescription(), e);
      }
    }
  }

  UploadReceipt upload(String taskId, byte[] data, long numSamples, Map<String, Double> metrics, Deadline deadline) {
    ChunkedPayload payload = new ChunkedPayload(data, chunkSize);
    int from = 0;
    for (int attempt = 1; ; attempt++) {
      UploadHeader header = UploadHeader.newBuilder().setTaskId(taskId).setResumeFrom(from)
          .setNumSamples(numSamples).putAllMetrics(metrics).build();
      try {
        return confirmed(uploadOnce(payload, header, deadline), payload);
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        Metadata trailers = e.getTrailers();
        String resume = trailers == null ? null : trailers.get(TransferKeys.RESUME_FROM);
        if (code == Status.Code.DATA_LOSS && resume != null) {
          from = Integer.parseInt(resume);
        } else if (code != Status.Code.UNAVAILABLE) {
          throw e;
        }
        retryOrThrow(attempt, "upload for task " + taskId, e.getStatus().getDescription(), e);
      }
    }
  }

  /** The coordinator's receipt names the payload it verified: it must be the one sent. */
  private static UploadReceipt confirmed(UploadReceipt receipt, ChunkedPayload sent) {
    if (!MessageDigest.isEqual(receipt.getPayloadDigest().toByteArray(), sent.digest())) {
      throw Status.DATA_LOSS.withDescription("the coordinator acknowledged task " + receipt.getTaskId()
          + "'s update as payload " + Digests.shortHex(receipt.getPayloadDigest().toByteArray()) + " but this agent sent "
          + Digests.shortHex(sent.digest()) + "; the coordinator and agent releases may differ").asRuntimeException();
    }
    return receipt;
  }

  /** Headers naming the upload's task, so the coordinator can hold it back before reading any of it. */
  private static Metadata announce(String taskId) {
    Metadata headers = new Metadata();
    headers.put(TransferKeys.UPLOAD_TASK, taskId);
    return headers;
  }

  private UploadReceipt uploadOnce(ChunkedPayload payload, UploadHeader header, Deadline deadline) {
    CompletableFuture<UploadReceipt> receipt = new CompletableFuture<>();
    Object readyLock = new Object();
    ClientResponseObserver<UpdateUploadMessage, UploadReceipt> responses = new ClientResponseObserver<>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<UpdateUploadMessage> requestStream) {
        requestStream.setOnReadyHandler(() -> {
          synchronized (readyLock) {
            readyLock.notifyAll();
          }
        });
      }

      @Override
      public void onNext(UploadReceipt value) {
        receipt.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        receipt.completeExceptionally(t);
        synchronized (readyLock) {
          readyLock.notifyAll();
        }
      }

      @Override
      public void onCompleted() {
        receipt.completeExceptionally(Status.INTERNAL.withDescription("upload finished without a receipt")
            .asRuntimeException());
      }
    };
    var requests = (ClientCallStreamObserver<UpdateUploadMessage>) async.withDeadline(deadline)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(announce(header.getTaskId())))
        .uploadUpdate(responses);
    for (int i = header.getResumeFrom(); i < payload.chunkCount() && !receipt.isDone(); i++) {
      awaitReady(requests, readyLock, receipt, deadline);
      UpdateUploadMessage.Builder message = UpdateUploadMessage.newBuilder().setChunk(payload.chunk(i));
      if (i == header.getResumeFrom()) {
        message.setHeader(header);
      }
      requests.onNext(message.build());
    }
    if (!receipt.isDone()) {
      requests.onCompleted();
    }
    try {
      return receipt.get(Math.max(1, deadline.timeRemaining(TimeUnit.MILLISECONDS)), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException status) {
        throw status;
      }
      throw Status.fromThrowable(e.getCause()).asRuntimeException();
    } catch (TimeoutException e) {
      requests.cancel("deadline", null);
      throw Status.DEADLINE_EXCEEDED.withDescription("upload did not finish before the task deadline")
          .asRuntimeException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      requests.cancel("interrupted", e);
      throw Status.CANCELLED.withDescription("upload interrupted").asRuntimeException();
    }
  }

  private static void awaitReady(ClientCallStreamObserver<?> requests, Object lock, CompletableFuture<?> done,
      Deadline deadline) {
    synchronized (lock) {
      while (!requests.isReady() && !done.isDone() && !deadline.isExpired()) {
        try {
          lock.wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw Status.CANCELLED.withDescription("upload interrupted").asRuntimeException();
        }
      }
    }
  }

  private static void retryOrThrow(int attempt, String what, String reason, RuntimeException cause) {
    if (attempt >= MAX_ATTEMPTS) {
      throw cause;
    }
    log.warn("{} interrupted ({}); resuming, attempt {} of {}", what, reason, attempt + 1, MAX_ATTEMPTS);
  }

}
