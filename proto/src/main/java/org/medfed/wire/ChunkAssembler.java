package org.medfed.wire;

import com.google.protobuf.ByteString;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.medfed.proto.v1.Chunk;

/**
 * Reassembles a chunked payload, verifying each chunk's SHA-256 on arrival and the payload's {@link
 * PayloadDigest} at the end. The payload digest is over the verified chunks' digests, fed as they
 * arrive, so each byte is hashed once. A rejected chunk leaves the assembler waiting for that same
 * index, so the sender can resume from {@link #nextIndex()} instead of starting over; the chunks held
 * before it stay verified and still count in the payload digest. Not thread-safe: one assembler
 * belongs to one transfer.
 *
 * <p>Chunks are hashed in the buffers they arrived in and kept there: the payload is handed over as
 * those chunks joined ({@link ByteString#copyFrom(Iterable)} joins without copying), never copied into
 * one array here, so a receiver's one copy is the one into what it decodes the payload to.
 */
public final class ChunkAssembler {
  /** The largest array the JVM allocates: one transfer holds at most this, about 536M float32 values. */
  static final long LARGEST_PAYLOAD = Integer.MAX_VALUE - 8;

  private final long maxBytes;
  private PayloadDigest digest;
  private List<ByteString> held;
  private long totalLength;
  private ByteString expectedDigest;
  private int chunkSize;
  private int expectedCount = -1;
  private int nextIndex;

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
   * @return the whole payload once the last chunk arrived and the payload digest matched
   * @throws CorruptChunkException if the chunk's data does not match its hash; resend it
   * @throws TransferException if the chunk does not belong to this transfer or the payload's
   *     digest does not match; the transfer must start over
   */
  public Optional<ByteString> accept(Chunk chunk) {
    if (expectedCount < 0) {
      begin(chunk);
    } else if (chunk.getCount() != expectedCount
        || chunk.getTotalLength() != totalLength
        || chunk.getChunkSize() != chunkSize
        || !chunk.getPayloadDigest().equals(expectedDigest)) {
      throw new TransferException("chunk " + chunk.getIndex()
          + " belongs to a different payload than the chunks before it");
    }
    if (chunk.getIndex() != nextIndex) {
      throw new TransferException("expected chunk " + nextIndex + " but received chunk " + chunk.getIndex());
    }
    ByteString data = chunk.getData();
    // The hash first: a chunk damaged on the way is resent, whatever its length came to; one that
    // matches its own hash but not the layout was sent wrong, and a resend would not mend it.
    byte[] sha256 = Digests.sha256(data);
    if (!MessageDigest.isEqual(sha256, chunk.getChunkSha256().toByteArray())) {
      throw new CorruptChunkException(chunk.getIndex());
    }
    int length = PayloadDigest.chunkLength(totalLength, chunkSize, nextIndex);
    if (data.size() != length) {
      throw new TransferException("chunk " + chunk.getIndex() + " carries " + data.size() + " bytes, but a payload of "
          + totalLength + " bytes in chunks of " + chunkSize + " bytes has " + length + " there");
    }
    // A ByteString never changes, so the chunk is kept as it is; a damaged one was never added.
    held.add(data);
    digest.add(sha256);
    nextIndex++;
    if (!isComplete()) {
      return Optional.empty();
    }
    if (!MessageDigest.isEqual(digest.finish(), expectedDigest.toByteArray())) {
      throw new TransferException("the reassembled payload does not match its digest "
          + Digests.shortHex(expectedDigest.toByteArray()) + ": each chunk matched its own SHA-256, so a chunk was"
          + " replaced or the sender announced another payload; start the transfer over");
    }
    ByteString payload = ByteString.copyFrom(held);
    held = List.of();
    return Optional.of(payload);
  }

  private void begin(Chunk chunk) {
    if (chunk.getPayloadDigest().isEmpty()) {
      throw new TransferException("chunk " + chunk.getIndex() + " carries no payload_digest: its sender speaks a"
          + " transfer protocol older than version 4 (a plain SHA-256 of the payload);"
          + " upgrade it to the same medfed release as this receiver");
    }
    if (chunk.getPayloadDigest().size() != PayloadDigest.LENGTH) {
      throw new TransferException("payload digest must be " + PayloadDigest.LENGTH + " bytes, got "
          + chunk.getPayloadDigest().size());
    }
    if (chunk.getTotalLength() < 0 || chunk.getTotalLength() > maxBytes) {
      throw new TransferException("payload of " + chunk.getTotalLength()
          + " bytes exceeds this receiver's limit of " + maxBytes + " bytes");
    }
    if (chunk.getTotalLength() > LARGEST_PAYLOAD) {
      throw new TransferException("payload of " + chunk.getTotalLength() + " bytes is larger than one transfer"
          + " can hold (" + LARGEST_PAYLOAD + " bytes, about 536 million float32 parameters)");
    }
    if (chunk.getChunkSize() <= 0) {
      throw new TransferException("chunk size must be positive, got " + chunk.getChunkSize());
    }
    int count = PayloadDigest.chunkCount(chunk.getTotalLength(), chunk.getChunkSize());
    if (chunk.getCount() != count) {
      throw new TransferException("chunk count " + chunk.getCount() + " does not fit a payload of "
          + chunk.getTotalLength() + " bytes in chunks of " + chunk.getChunkSize() + " bytes, which has " + count);
    }
    totalLength = chunk.getTotalLength();
    chunkSize = chunk.getChunkSize();
    expectedDigest = chunk.getPayloadDigest();
    expectedCount = count;
    held = new ArrayList<>(count);
    digest = new PayloadDigest(totalLength, chunkSize, count);
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
