package org.medfed.wire;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Optional;
import org.medfed.proto.v1.Chunk;

/**
 * Reassembles a chunked payload, verifying each chunk's hash on arrival and the whole payload's
 * hash at the end. A rejected chunk leaves the assembler waiting for that same index, so the
 * sender can resume from {@link #nextIndex()} instead of starting over. Not thread-safe: one
 * assembler belongs to one transfer.
 */
public final class ChunkAssembler {
  private final long maxBytes;
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
    byte[] data = chunk.getData().toByteArray();
    if (!Arrays.equals(Digests.sha256(data), chunk.getChunkSha256().toByteArray())) {
      throw new CorruptChunkException(chunk.getIndex());
    }
    if (written + (long) data.length > buffer.length) {
      throw new TransferException("chunk " + chunk.getIndex() + " overflows the announced length of "
          + buffer.length + " bytes");
    }
    System.arraycopy(data, 0, buffer, written, data.length);
    written += data.length;
    nextIndex++;
    if (!isComplete()) {
      return Optional.empty();
    }
    if (written != buffer.length) {
      throw new TransferException("received " + written + " bytes but " + buffer.length + " were announced");
    }
    MessageDigest whole = Digests.newSha256();
    whole.update(buffer);
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
