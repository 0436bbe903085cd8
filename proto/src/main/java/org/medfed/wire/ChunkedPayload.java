package org.medfed.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.security.MessageDigest;
import java.util.Arrays;
import org.medfed.proto.v1.Chunk;

/**
 * A large payload cut into fixed-size chunks for streaming, so gRPC's per-message limit never
 * bounds a model's size. It takes the array it is given (callers hand over a fresh one and never
 * change it): a 400 MB model is neither copied here nor per chunk, and every digest is computed
 * once, however many hospitals download it.
 */
public final class ChunkedPayload {
  /** 1 MiB: well under gRPC's default 4 MiB message limit, large enough to keep overhead tiny. */
  public static final int DEFAULT_CHUNK_SIZE = 1 << 20;

  private final byte[] data;
  private final int chunkSize;
  private final ByteString payloadSha256;
  private final ByteString[] chunkSha256;

  /** @param data the payload, which this object now owns: the caller must not change it afterwards */
  public ChunkedPayload(byte[] data, int chunkSize) {
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunk size must be positive, got " + chunkSize);
    }
    this.data = data;
    this.chunkSize = chunkSize;
    this.chunkSha256 = new ByteString[chunkCount()];
    MessageDigest whole = Digests.newSha256();
    for (int i = 0; i < chunkSha256.length; i++) {
      int from = i * chunkSize;
      int length = Math.min(chunkSize, data.length - from);
      chunkSha256[i] = UnsafeByteOperations.unsafeWrap(Digests.sha256(data, from, length));
      whole.update(data, from, length);
    }
    this.payloadSha256 = UnsafeByteOperations.unsafeWrap(whole.digest());
  }

  public ChunkedPayload(byte[] data) {
    this(data, DEFAULT_CHUNK_SIZE);
  }

  /** An empty payload still travels as one (empty) chunk so that the receiver learns its digest. */
  public int chunkCount() {
    return Math.max(1, (data.length + chunkSize - 1) / chunkSize);
  }

  public long totalLength() {
    return data.length;
  }

  public byte[] sha256() {
    return payloadSha256.toByteArray();
  }

  public byte[] bytes() {
    return data.clone();
  }

  public Chunk chunk(int index) {
    if (index < 0 || index >= chunkCount()) {
      throw new IllegalArgumentException(
          "chunk index " + index + " is outside 0.." + (chunkCount() - 1));
    }
    int from = index * chunkSize;
    int length = Math.min(chunkSize, data.length - from);
    return Chunk.newBuilder()
        .setIndex(index)
        .setCount(chunkCount())
        .setTotalLength(data.length)
        .setPayloadSha256(payloadSha256)
        .setChunkSha256(chunkSha256[index])
        .setData(UnsafeByteOperations.unsafeWrap(data, from, length))
        .build();
  }

  @Override
  public String toString() {
    return "ChunkedPayload[" + data.length + " bytes, " + chunkCount() + " chunks, sha256="
        + Digests.shortHex(payloadSha256.toByteArray()) + "]";
  }

  static boolean sameDigest(ByteString a, byte[] b) {
    return Arrays.equals(a.toByteArray(), b);
  }
}
