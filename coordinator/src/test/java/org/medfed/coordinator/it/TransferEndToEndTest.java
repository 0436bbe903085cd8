package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.store.CheckpointStore;
import org.medfed.proto.v1.Chunk;
import org.medfed.proto.v1.FederationServiceGrpc;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.ModelDownloadRequest;
import org.medfed.proto.v1.UpdateUploadMessage;

/** Large payloads and damaged chunks, end to end over loopback gRPC with real DL4J training. */
class TransferEndToEndTest {
  @TempDir Path dataDir;

  private static String job(int features, int hidden, int rounds) {
    return """
        name: transfer
        dataset: expression
        model: {architecture: mlp, hidden: [%d]}
        input_shape: [%d]
        num_classes: 3
        rounds: %d
        min_nodes: 1
        local_epochs: 1
        batch_size: 16
        learning_rate: 0.001
        secure_aggregation: false   # one hospital: its update is compared bit for bit below
        deadlines: {selection: 30s, training: 120s, evaluation: 60s}
        """.formatted(hidden, features, rounds);
  }

  @Test
  void modelOfTenMillionParameters_travelsBothWaysIntact() throws Exception {
    // 1000 inputs x 10000 hidden units: 10,040,003 parameters, 40 MB of float32, ten times gRPC's 4 MiB limit.
    try (Federation federation = new Federation(dataDir)) {
      RecordingTrainer trainer = new RecordingTrainer();
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 32, 16, 1000), trainer);

      String jobId = federation.submit(job(1000, 10_000, 1)).getJobId();
      federation.watch(jobId, Duration.ofMinutes(4));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      CheckpointStore store = new CheckpointStore(dataDir.resolve("jobs"));
      GlobalModel after = store.read(jobId, 1).orElseThrow();
      assertTrue(after.parameterCount() >= 10_000_000, "parameters: " + after.parameterCount());
      // Down: the agent trained from exactly the initial model the coordinator built.
      float[] received = trainer.received.get(0);
      assertEquals(after.parameterCount(), received.length);
      // Up: with one hospital, FedAvg's new global model is exactly the hospital's local model.
      assertArrayEquals(trainer.produced.get(0), after.parameters(), 1e-6f);
    }
  }

  @Test
  void corruptedChunks_areDetectedByTheirHashAndResentInBothDirections() throws Exception {
    CorruptOnce downloads = new CorruptOnce(2);
    CorruptUploadOnce uploads = new CorruptUploadOnce(3);
    // 64 KiB chunks, so the ~340 KB model and its update span several chunks each.
    CoordinatorConfig config = CoordinatorConfig.defaults(dataDir).withChunkSize(64 * 1024);
    try (Federation federation = new Federation(dataDir, config, downloads)) {
      RecordingTrainer trainer = new RecordingTrainer();
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 40, 20, 200), trainer, uploads);

      String jobId = federation.submit(job(200, 400, 1)).getJobId();
      federation.watch(jobId, Duration.ofMinutes(2));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertTrue(downloads.corrupted.get(), "the test should have damaged a downloaded chunk");
      assertTrue(uploads.corrupted.get(), "the test should have damaged an uploaded chunk");
      // The agent resumed its download from the damaged chunk rather than starting over.
      assertTrue(downloads.startChunks.contains(2), "download requests started at " + downloads.startChunks);
      GlobalModel after = new CheckpointStore(dataDir.resolve("jobs")).read(jobId, 1).orElseThrow();
      assertArrayEquals(new CheckpointStore(dataDir.resolve("jobs")).read(jobId, 1).orElseThrow().parameters(),
          after.parameters());
      assertArrayEquals(trainer.produced.get(0), after.parameters(), 1e-6f);
    }
  }

  /** Flips one bit in one downloaded chunk, once, as a faulty network or disk would. */
  static final class CorruptOnce implements ServerInterceptor {
    final AtomicBoolean corrupted = new AtomicBoolean();
    final List<Integer> startChunks = new CopyOnWriteArrayList<>();
    private final int index;

    CorruptOnce(int index) {
      this.index = index;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      if (!call.getMethodDescriptor().equals(FederationServiceGrpc.getDownloadModelMethod())) {
        return next.startCall(call, headers);
      }
      ServerCall<Q, R> damaging = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
        @Override
        @SuppressWarnings("unchecked")
        public void sendMessage(R message) {
          Chunk chunk = (Chunk) message;
          if (chunk.getIndex() == index && corrupted.compareAndSet(false, true)) {
            byte[] data = chunk.getData().toByteArray();
            data[data.length / 2] ^= 0x10;
            message = (R) chunk.toBuilder().setData(ByteString.copyFrom(data)).build();
          }
          super.sendMessage(message);
        }
      };
      ServerCall.Listener<Q> listener = next.startCall(damaging, headers);
      return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
        @Override
        public void onMessage(Q message) {
          startChunks.add(((ModelDownloadRequest) message).getStartChunk());
          super.onMessage(message);
        }
      };
    }
  }

  /** Flips one bit in one uploaded chunk, once. */
  static final class CorruptUploadOnce implements ClientInterceptor {
    final AtomicBoolean corrupted = new AtomicBoolean();
    private final int index;

    CorruptUploadOnce(int index) {
      this.index = index;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      ClientCall<Q, R> call = next.newCall(method, options);
      if (!method.equals(FederationServiceGrpc.getUploadUpdateMethod())) {
        return call;
      }
      return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
        @Override
        @SuppressWarnings("unchecked")
        public void sendMessage(Q message) {
          UpdateUploadMessage upload = (UpdateUploadMessage) message;
          if (upload.getChunk().getIndex() == index && corrupted.compareAndSet(false, true)) {
            byte[] data = upload.getChunk().getData().toByteArray();
            data[7] ^= 0x01;
            message = (Q) upload.toBuilder().setChunk(upload.getChunk().toBuilder().setData(ByteString.copyFrom(data)))
                .build();
          }
          super.sendMessage(message);
        }
      };
    }
  }
}
