package org.medfed.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.medfed.proto.v1.Chunk;

/**
 * A large payload cut into fixed-size chunks for streaming, so gRPC's per-message limit never
 * bounds a model's size. It keeps what it is given, never a copy: bytes it now owns, or a read-only
 * view of float32 values that it encodes chunk by chunk as they are sent (the wire form of {@link
 * Tensors}), so a published 400 MB model costs no second 400 MB. Every digest is computed once,
 * however many hospitals download the payload: each chunk's SHA-256 and the payload's {@link
 * PayloadDigest} over them.
 */
public final class ChunkedPayload {
  /** 1 MiB: well under gRPC's default 4 MiB message limit, large enough to keep overhead tiny. */
  public static final int DEFAULT_CHUNK_SIZE = 1 << 20;

  /** The payload's bytes, by range. */
  private interface Content {
    int length();

    ByteString slice(int from, int length);
  }

  private final Content content;
  private final int chunkSize;
  private final ByteString payloadDigest;
  private final ByteString[] chunkSha256;

  /** @param data the payload, which this object now owns: the caller must not change it afterwards */
  public ChunkedPayload(byte[] data, int chunkSize) {
    this(new Content() {
      @Override
      public int length() {
        return data.length;
      }

      @Override
      public ByteString slice(int from, int length) {
        return UnsafeByteOperations.unsafeWrap(data, from, length);
      }
    }, chunkSize);
  }

  public ChunkedPayload(byte[] data) {
    this(data, DEFAULT_CHUNK_SIZE);
  }

  /**
   * float32 values sent as {@link Tensors#toBytes} would encode them, without encoding them all at once.
   *
   * @param values a view the caller never changes afterwards (a read-only view of an immutable array)
   */
  public static ChunkedPayload ofFloats(FloatBuffer values, int chunkSize) {
    FloatBuffer view = values.slice();
    if (view.remaining() > (Integer.MAX_VALUE - 8) / Float.BYTES) {
      throw new IllegalArgumentException(view.remaining() + " float32 values do not fit in one transfer");
    }
    return new ChunkedPayload(new Content() {
      @Override
      public int length() {
        return view.remaining() * Float.BYTES;
      }

      @Override
      public ByteString slice(int from, int length) {
        int first = from / Float.BYTES;
        int skip = from % Float.BYTES;
        int count = (skip + length + Float.BYTES - 1) / Float.BYTES;
        byte[] encoded = new byte[count * Float.BYTES];
        ByteBuffer.wrap(encoded).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
            .put(view.duplicate().position(first).limit(first + count));
        return skip == 0 && encoded.length == length ? UnsafeByteOperations.unsafeWrap(encoded)
            : UnsafeByteOperations.unsafeWrap(encoded, skip, length);
      }
    }, chunkSize);
  }

  private ChunkedPayload(Content content, int chunkSize) {
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunk size must be positive, got " + chunkSize);
    }
    this.content = content;
    this.chunkSize = chunkSize;
    this.chunkSha256 = new ByteString[chunkCount()];
    // Each byte is hashed once, for its chunk; the payload's digest is over the chunk digests, so the
    // chunks hash side by side on whatever cores are free.
    IntStream.range(0, chunkSha256.length).parallel().forEach(i -> {
      chunkSha256[i] = UnsafeByteOperations.unsafeWrap(Digests.sha256(slice(i)));
    });
    PayloadDigest digest = new PayloadDigest(content.length(), chunkSize, chunkSha256.length);
    for (ByteString each : chunkSha256) {
      digest.add(each.toByteArray());
    }
    this.payloadDigest = UnsafeByteOperations.unsafeWrap(digest.finish());
  }

  /** An empty payload still travels as one (empty) chunk so that the receiver learns its digest. */
  public int chunkCount() {
    return PayloadDigest.chunkCount(content.length(), chunkSize);
  }

  public long totalLength() {
    return content.length();
  }

  /** The payload's {@link PayloadDigest}, the name its receiver checks it by. */
  public byte[] digest() {
    return payloadDigest.toByteArray();
  }

  public Chunk chunk(int index) {
    if (index < 0 || index >= chunkCount()) {
      throw new IllegalArgumentException(
          "chunk index " + index + " is outside 0.." + (chunkCount() - 1));
    }
    return Chunk.newBuilder()
        .setIndex(index)
        .setCount(chunkCount())
        .setTotalLength(content.length())
        .setChunkSize(chunkSize)
        .setPayloadDigest(payloadDigest)
        .setChunkSha256(chunkSha256[index])
        .setData(slice(index))
        .build();
  }

  private ByteString slice(int index) {
    int from = index * chunkSize;
    return content.slice(from, PayloadDigest.chunkLength(content.length(), chunkSize, index));
  }

  @Override
  public String toString() {
    return "ChunkedPayload[" + content.length() + " bytes, " + chunkCount() + " chunks, digest="
        + Digests.shortHex(payloadDigest.toByteArray()) + "]";
  }
}
