package org.medfed.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.proto.v1.AdminModelRequest;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.Chunk;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.wire.ChunkedPayload;

/** {@code medfed download} against a real gRPC server on loopback that misbehaves in each way a stream can. */
class ModelDownloadTest {
  private static final byte[] MODEL = new byte[10_000];
  private static final ChunkedPayload PAYLOAD;

  static {
    new Random(7).nextBytes(MODEL);
    PAYLOAD = new ChunkedPayload(MODEL, 1_000);
  }

  /** How the fake coordinator answers a request that starts at some chunk. */
  private interface Behaviour {
    void serve(int start, StreamObserver<Chunk> responses);
  }

  private final AtomicInteger requests = new AtomicInteger();
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow();
    }
  }

  @Test
  void aStreamThatKeepsEndingBeforeAnyNewChunk_failsAfterFiveAttempts_sayingWhatEachHit() {
    // Sends chunks 0..2 once, then ends every stream before sending anything more.
    ModelDownload download = downloadFrom((start, out) -> {
      for (int i = start; i < Math.min(3, PAYLOAD.chunkCount()); i++) {
        out.onNext(PAYLOAD.chunk(i));
      }
      out.onCompleted();
    });

    ModelDownload.FailedException failed = assertThrows(ModelDownload.FailedException.class,
        () -> download.fetch("job-1", 0));

    assertEquals(1 + ModelDownload.ATTEMPTS, requests.get(), "one attempt with progress, then five without");
    String message = failed.getMessage();
    assertTrue(message.contains("after 5 attempts in a row brought no new chunk (3 chunks received and checked)"),
        message);
    assertTrue(message.contains("attempt 5 from chunk 3: the stream ended before the last chunk (3 received so far)"),
        message);
    assertFalse(message.contains("attempt 6"), message);
  }

  @Test
  void aStreamCutAfterEveryChunk_stillFinishes_becauseEachAttemptBringsProgress() throws Exception {
    ModelDownload download = downloadFrom((start, out) -> {
      out.onNext(PAYLOAD.chunk(start));
      out.onCompleted();
    });

    assertArrayEquals(MODEL, download.fetch("job-1", 0));
    assertEquals(PAYLOAD.chunkCount(), requests.get());
  }

  @Test
  void aChunkThatAlwaysArrivesDamaged_failsBounded() {
    ModelDownload download = downloadFrom((start, out) -> {
      for (int i = start; i < PAYLOAD.chunkCount(); i++) {
        Chunk chunk = PAYLOAD.chunk(i);
        out.onNext(i == 4 ? chunk.toBuilder().setData(ByteString.copyFromUtf8("flipped bits")).build() : chunk);
      }
      out.onCompleted();
    });

    ModelDownload.FailedException failed = assertThrows(ModelDownload.FailedException.class,
        () -> download.fetch("job-1", 0));
    assertTrue(failed.getMessage().contains("chunk 4 failed its SHA-256 check"), failed.getMessage());
    assertEquals(1 + ModelDownload.ATTEMPTS, requests.get());
  }

  @Test
  void aDroppedConnectionIsRetried_butARefusalEndsTheDownloadAtOnce() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    ModelDownload flaky = downloadFrom((start, out) -> {
      if (calls.incrementAndGet() <= 2) {
        out.onError(Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException());
        return;
      }
      for (int i = start; i < PAYLOAD.chunkCount(); i++) {
        out.onNext(PAYLOAD.chunk(i));
      }
      out.onCompleted();
    });
    assertArrayEquals(MODEL, flaky.fetch("job-1", 0));
    stop();
    requests.set(0);

    ModelDownload refused = downloadFrom((start, out) ->
        out.onError(Status.NOT_FOUND.withDescription("job 'job-1' has no checkpoint yet").asRuntimeException()));
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> refused.fetch("job-1", 0));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    assertEquals(1, requests.get());
  }

  @Test
  void theCommandExitsWith7_printsWhy_andWritesNoFile(@TempDir Path dir) {
    downloadFrom((start, out) -> out.onCompleted());
    Path target = dir.resolve("model.zip");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream original = System.err;
    int code;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      code = MedfedCli.run("download", "job-1", "--insecure-plaintext", "--coordinator",
          "127.0.0.1:" + server.getPort(), "-o", target.toString());
    } finally {
      System.setErr(original);
    }
    assertEquals(MedfedCli.DOWNLOAD_FAILED, code);
    String printed = err.toString(StandardCharsets.UTF_8);
    assertTrue(printed.startsWith("medfed download: gave up on the model of job 'job-1' after 5 attempts"), printed);
    assertFalse(Files.exists(target));
  }

  private ModelDownload downloadFrom(Behaviour behaviour) {
    try {
      server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(new AdminServiceGrpc.AdminServiceImplBase() {
            // `medfed download` first asks for the job, to find the coordinator that drives it.
            @Override
            public void getJob(GetJobRequest request, StreamObserver<JobDetail> responses) {
              responses.onNext(JobDetail.getDefaultInstance());
              responses.onCompleted();
            }

            @Override
            public void downloadModel(AdminModelRequest request, StreamObserver<Chunk> responses) {
              requests.incrementAndGet();
              behaviour.serve(request.getStartChunk(), responses);
            }
          }).build().start();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    return new ModelDownload(AdminServiceGrpc.newBlockingStub(channel), Duration.ofMillis(1));
  }
}
