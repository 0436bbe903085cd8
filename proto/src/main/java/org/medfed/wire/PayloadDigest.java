package org.medfed.wire;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The digest that names a chunked payload (protocol version 4): a hash list, SHA-256 over a fixed
 * header and then each chunk's SHA-256 in index order,
 *
 * <pre>
 *   SHA-256( "medfed chunked payload v1" 0x00 || total_length (8 bytes, big-endian)
 *            || chunk_size (4) || chunk_count (4) || SHA-256(chunk 0) || ... || SHA-256(chunk n-1) )
 * </pre>
 *
 * <p>so that each byte of the payload is hashed once at each end (for its chunk's digest) instead of
 * twice (also for a plain SHA-256 of the whole). It is as binding as that plain SHA-256: two payloads
 * with the same digest give either a collision of the outer SHA-256 or, the outer inputs being equal,
 * the same length, chunk size, count and chunk digests in the same order, hence a collision of
 * SHA-256 on some chunk (chunk boundaries follow from the length and chunk size). The header's
 * fixed-width fields and its domain string keep it from being read as any other SHA-256 input in
 * medfed. The digest depends on the chunk size: the same bytes cut differently have another name,
 * which no receiver relies on (it only compares a payload's digest with the one its sender announced).
 *
 * <p>Fed incrementally, in index order; not thread-safe.
 */
public final class PayloadDigest {
  private static final byte[] DOMAIN = "medfed chunked payload v1\0".getBytes(StandardCharsets.US_ASCII);
  static final int LENGTH = 32;

  private final MessageDigest outer = Digests.newSha256();
  private final int count;
  private int added;

  /**
   * @param totalLength the payload's length in bytes
   * @param chunkSize the length of every chunk but the last
   * @param count the number of chunks, {@link #chunkCount} of the two above
   */
  public PayloadDigest(long totalLength, int chunkSize, int count) {
    if (count != chunkCount(totalLength, chunkSize)) {
      throw new IllegalArgumentException("a payload of " + totalLength + " bytes in chunks of " + chunkSize
          + " bytes has " + chunkCount(totalLength, chunkSize) + " chunks, not " + count);
    }
    this.count = count;
    outer.update(DOMAIN);
    outer.update(ByteBuffer.allocate(16).putLong(totalLength).putInt(chunkSize).putInt(count).flip());
  }

  /**
   * How many chunks a payload has: an empty payload still travels as one (empty) chunk, so that the
   * receiver learns its digest.
   */
  public static int chunkCount(long totalLength, int chunkSize) {
    if (totalLength < 0 || chunkSize <= 0) {
      throw new IllegalArgumentException("payload length (" + totalLength + ") must be >= 0 and chunk size ("
          + chunkSize + ") > 0");
    }
    long count = Math.max(1, (totalLength + chunkSize - 1) / chunkSize);
    if (count > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a payload of " + totalLength + " bytes in chunks of " + chunkSize
          + " bytes has more chunks than one transfer can number");
    }
    return (int) count;
  }

  /** The length of chunk {@code index}: the chunk size, but what remains for the last chunk. */
  public static int chunkLength(long totalLength, int chunkSize, int index) {
    return (int) Math.min(chunkSize, totalLength - (long) index * chunkSize);
  }

  /** Adds the next chunk's SHA-256, in index order. */
  public void add(byte[] chunkSha256) {
    if (chunkSha256.length != LENGTH) {
      throw new IllegalArgumentException("a chunk's SHA-256 has 32 bytes, not " + chunkSha256.length);
    }
    if (added == count) {
      throw new IllegalStateException("all " + count + " chunk digests were already added");
    }
    outer.update(chunkSha256);
    added++;
  }

  /** The payload's digest, once every chunk's SHA-256 was added. */
  public byte[] finish() {
    if (added != count) {
      throw new IllegalStateException(added + " of " + count + " chunk digests were added");
    }
    return outer.digest();
  }
}
