package org.medfed.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.security.MessageDigest;
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
 * <p>Each chunk is hashed in the buffer it arrived in, then copied once into the payload's array.
 * Keeping the chunks instead (and joining them without a copy) raised the receiving JVM's peak heap
 * 2.6-fold at 100M parameters, likely because a 1 MiB chunk is a humongous object in G1 and each held
 * one takes a region twice its size (docs/benchmarks.md, 2026-12-04 evening).
 */
public final class ChunkAssembler {
  /** The largest array the JVM allocates: one transfer holds at most this, about 536M float32 values. */
  static final long LARGEST_PAYLOAD = Integer.MAX_VALUE - 8;

  private final long maxBytes;
  private PayloadDigest digest;
  private byte[] buffer;
  private long totalLength;
  private int written;
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
   * @return the whole payload once the last chunk arrived and the payload digest matched: a view of
   *     the array this assembler filled, which nothing writes afterwards
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
    // Only verified bytes are copied in; a damaged chunk never was, so its resend goes to the same place.
    data.copyTo(buffer, written);
    written += length;
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
    return Optional.of(UnsafeByteOperations.unsafeWrap(buffer));
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
    buffer = new byte[(int) totalLength];
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
