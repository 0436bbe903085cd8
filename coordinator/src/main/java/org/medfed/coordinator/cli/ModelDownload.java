package org.medfed.coordinator.cli;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.medfed.proto.v1.AdminModelRequest;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.Chunk;
import org.medfed.wire.ChunkAssembler;

/**
 * Fetches a job's model in checked chunks. A stream that ends before the last chunk, a damaged
 * chunk or a dropped connection is resumed from the last good chunk; after {@link #ATTEMPTS}
 * attempts in a row that bring no new chunk the download gives up and says what each attempt hit.
 * An attempt that brings chunks resets the count, so a slow but working link still finishes,
 * while one that never gets further cannot loop.
 */
final class ModelDownload {
  static final int ATTEMPTS = 5;
  /** Failures a new attempt may cure; any other status (NOT_FOUND, PERMISSION_DENIED, ...) ends the download at once. */
  private static final Set<Status.Code> TRANSIENT = Set.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED,
      Status.Code.CANCELLED, Status.Code.ABORTED, Status.Code.INTERNAL, Status.Code.UNKNOWN);

  /** The download stopped without the whole, verified model. */
  static final class FailedException extends RuntimeException {
    FailedException(String message) {
      super(message);
    }
  }

  private final AdminServiceGrpc.AdminServiceBlockingStub admin;
  private final Duration firstPause;

  ModelDownload(AdminServiceGrpc.AdminServiceBlockingStub admin, Duration firstPause) {
    this.admin = admin;
    this.firstPause = firstPause;
  }

  /**
   * @param round a checkpointed round, or 0 for the latest
   * @throws FailedException after {@link #ATTEMPTS} attempts in a row without progress, listing them
   * @throws StatusRuntimeException at once for a refusal no retry can cure (no such job, no checkpoint, a revoked kit)
   */
  byte[] fetch(String jobId, int round) throws InterruptedException {
    ChunkAssembler assembler = new ChunkAssembler(4L << 30);
    List<String> failures = new ArrayList<>();
    Duration pause = firstPause;
    while (true) {
      int before = assembler.nextIndex();
      String failure;
      try {
        Optional<ByteString> whole = attempt(jobId, round, assembler);
        if (whole.isPresent()) {
          return whole.get().toByteArray();
        }
        failure = "the stream ended before the last chunk (" + assembler.nextIndex() + " received so far)";
      } catch (ChunkAssembler.CorruptChunkException e) {
        failure = e.getMessage();
      } catch (StatusRuntimeException e) {
        if (!TRANSIENT.contains(e.getStatus().getCode())) {
          throw e;
        }
        failure = "the stream failed with " + e.getStatus().getCode() + ": " + e.getStatus().getDescription();
      }
      if (assembler.nextIndex() > before) {
        // It got further: go on from there at once, with a fresh count.
        failures.clear();
        pause = firstPause;
        continue;
      }
      failures.add("attempt " + (failures.size() + 1) + " from chunk " + before + ": " + failure);
      if (failures.size() >= ATTEMPTS) {
        throw new FailedException("gave up on the model of job '" + jobId + "' after " + ATTEMPTS
            + " attempts in a row brought no new chunk (" + assembler.nextIndex() + " chunks received and checked):\n  "
            + String.join("\n  ", failures) + "\nnothing was written; check the coordinator's log and try again");
      }
      Thread.sleep(pause.toMillis());
      pause = pause.multipliedBy(2);
    }
  }

  private Optional<ByteString> attempt(String jobId, int round, ChunkAssembler assembler) {
    Iterator<Chunk> chunks = admin.withDeadlineAfter(10, TimeUnit.MINUTES).downloadModel(AdminModelRequest
        .newBuilder().setJobId(jobId).setRound(round).setStartChunk(assembler.nextIndex()).build());
    while (chunks.hasNext()) {
      Optional<ByteString> whole = assembler.accept(chunks.next());
      if (whole.isPresent()) {
        return whole;
      }
    }
    return Optional.empty();
  }
}
