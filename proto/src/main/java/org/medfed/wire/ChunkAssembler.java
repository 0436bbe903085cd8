package org.medfed.wire;

import com.google.protobuf.ByteString;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import org.medfed.proto.v1.Chunk;

/**
 * Reassembles a chunked payload, verifying each chunk's hash on arrival and the whole payload's
 * hash at the end (fed chunk by chunk, so the end needs no second pass over the payload). A
 * rejected chunk leaves the assembler waiting for that same index, so the sender can resume from
 * {@link #nextIndex()} instead of starting over. Not thread-safe: one assembler belongs to one
 * transfer.
 *
 * <p>The whole-payload digest is fed on {@link #DIGESTS}, one verified chunk after another, while
 * the caller's thread copies and checks the next chunk: the two SHA-256 passes over each byte are
 * the receiver's largest cost (about 1 GB/s each in the JDK), and this way they need not follow
 * each other on one core (issue 16 item 3).
 */
public final class ChunkAssembler {
  /** The largest array the JVM allocates: one transfer holds at most this, about 536M float32 values. */
  static final long LARGEST_PAYLOAD = Integer.MAX_VALUE - 8;

  /**
   * Where whole-payload digests are fed: one thread per core, daemon, shared by every transfer.
   * Each transfer's updates run one after another, chained in order; different transfers' run side by side.
   */
  private static final Executor DIGESTS = Executors.newFixedThreadPool(
      Math.max(2, Runtime.getRuntime().availableProcessors()), runnable -> {
        Thread thread = new Thread(runnable, "medfed-payload-digest");
        thread.setDaemon(true);
        return thread;
      });

  private final long maxBytes;
  private final MessageDigest whole = Digests.newSha256();
  /** The whole-payload digest's updates so far: each chunk's joins it once the chunk is verified. */
  private CompletableFuture<Void> wholeFed = CompletableFuture.completedFuture(null);
  private byte[] buffer;
  private byte[] expectedSha256;
  private int expectedCount = -1;
  private int nextIndex;
  private int written;

  /** @param maxBytes the largest payload this receiver accepts, so a lying header cannot exhaust memory */
  public ChunkAssembler(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  public int nextIndex() {
    return nextIndex;
  }

  public boolean isComplete() {
    return expectedCount >= 0 && nextIndex == expectedCount;
  }

  /**
   * Accepts the next chunk.
   *
   * @return the whole payload once the last chunk arrived and the payload hash matched
   * @throws CorruptChunkException if the chunk's data does not match its hash; resend it
   * @throws TransferException if the chunk does not belong to this transfer or the payload's
   *     digest does not match; the transfer must start over
   */
  public Optional<byte[]> accept(Chunk chunk) {
    if (expectedCount < 0) {
      begin(chunk);
    } else if (chunk.getCount() != expectedCount
        || chunk.getTotalLength() != buffer.length
        || !ChunkedPayload.sameDigest(chunk.getPayloadSha256(), expectedSha256)) {
      throw new TransferException("chunk " + chunk.getIndex()
          + " belongs to a different payload than the chunks before it");
    }
    if (chunk.getIndex() != nextIndex) {
      throw new TransferException("expected chunk " + nextIndex + " but received chunk " + chunk.getIndex());
    }
    ByteString data = chunk.getData();
    if (written + (long) data.size() > buffer.length) {
      throw new TransferException("chunk " + chunk.getIndex() + " overflows the announced length of "
          + buffer.length + " bytes");
    }
    // Copied into place first, then hashed there: no per-chunk array, and a damaged chunk is simply
    // overwritten by its resend.
    data.copyTo(buffer, written);
    if (!MessageDigest.isEqual(Digests.sha256(buffer, written, data.size()), chunk.getChunkSha256().toByteArray())) {
      throw new CorruptChunkException(chunk.getIndex());
    }
    // Only verified bytes are fed, and they are never written again: a resent chunk overwrites
    // only what lies beyond them.
    byte[] verified = buffer;
    int from = written;
    int length = data.size();
    wholeFed = wholeFed.thenRunAsync(() -> whole.update(verified, from, length), DIGESTS);
    written += data.size();
    nextIndex++;
    if (!isComplete()) {
      return Optional.empty();
    }
    if (written != buffer.length) {
      throw new TransferException("received " + written + " bytes but " + buffer.length + " were announced");
    }
    wholeFed.join();
    if (!MessageDigest.isEqual(whole.digest(), expectedSha256)) {
      throw new TransferException("the reassembled payload does not match its SHA-256 "
          + Digests.shortHex(expectedSha256));
    }
    return Optional.of(buffer);
  }

  private void begin(Chunk chunk) {
    if (chunk.getTotalLength() < 0 || chunk.getTotalLength() > maxBytes) {
      throw new TransferException("payload of " + chunk.getTotalLength()
          + " bytes exceeds this receiver's limit of " + maxBytes + " bytes");
    }
    if (chunk.getTotalLength() > LARGEST_PAYLOAD) {
      throw new TransferException("payload of " + chunk.getTotalLength() + " bytes is larger than one transfer"
          + " can hold (" + LARGEST_PAYLOAD + " bytes, about 536 million float32 parameters)");
    }
    if (chunk.getCount() <= 0) {
      throw new TransferException("chunk count must be positive, got " + chunk.getCount());
    }
    if (chunk.getPayloadSha256().size() != 32) {
      throw new TransferException("payload SHA-256 must be 32 bytes, got " + chunk.getPayloadSha256().size());
    }
    buffer = new byte[(int) chunk.getTotalLength()];
    expectedSha256 = chunk.getPayloadSha256().toByteArray();
    expectedCount = chunk.getCount();
  }

  /** The transfer cannot continue; the message says why. */
  public static class TransferException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TransferException(String message) {
      super(message);
    }
  }

  /** One chunk arrived damaged; everything before it is kept, so resend from {@link #index()}. */
  public static final class CorruptChunkException extends TransferException {
    private static final long serialVersionUID = 1L;
    private final int index;

    public CorruptChunkException(int index) {
      super("chunk " + index + " failed its SHA-256 check; resend from chunk " + index);
      this.index = index;
    }

    public int index() {
      return index;
    }
  }
}
