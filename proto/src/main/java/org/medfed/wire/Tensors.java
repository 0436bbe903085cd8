package org.medfed.wire;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.security.MessageDigest;
import java.util.List;

/** Encodes flat parameter vectors as little-endian float32 bytes, the wire format for every tensor. */
public final class Tensors {
  /** How many bytes {@link #encodeInPieces} encodes at a time: small next to any model worth streaming. */
  static final int PIECE_BYTES = 64 * 1024;

  private Tensors() {}

  /** Receives the encoded bytes piece by piece; a piece's buffer is reused once {@link #accept} returns. */
  @FunctionalInterface
  public interface Pieces {
    void accept(ByteBuffer piece) throws IOException;
  }

  /**
   * The bytes {@link #toBytes} would give for {@code values}' remaining floats, in order, through one
   * reused buffer of {@value #PIECE_BYTES} bytes: a model of hundreds of MB is written or hashed
   * without a byte array of its size. {@code values} itself is left as it was.
   */
  public static void encodeInPieces(FloatBuffer values, Pieces sink) throws IOException {
    FloatBuffer view = values.duplicate();
    ByteBuffer piece = ByteBuffer.allocate(Math.min(PIECE_BYTES, Math.max(Float.BYTES, view.remaining() * Float.BYTES)))
        .order(ByteOrder.LITTLE_ENDIAN);
    while (view.hasRemaining()) {
      int count = Math.min(view.remaining(), piece.capacity() / Float.BYTES);
      piece.clear();
      piece.asFloatBuffer().put(view.slice().limit(count));
      view.position(view.position() + count);
      piece.limit(count * Float.BYTES);
      sink.accept(piece);
    }
  }

  /** The SHA-256 of {@link #toBytes}{@code (values)}, without that array. */
  public static byte[] sha256(FloatBuffer values) {
    MessageDigest digest = Digests.newSha256();
    try {
      encodeInPieces(values, digest::update);
    } catch (IOException e) {
      throw new IllegalStateException("a digest does no I/O", e);
    }
    return digest.digest();
  }

  public static byte[] toBytes(float[] values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    buffer.asFloatBuffer().put(values);
    return buffer.array();
  }

  /**
   * @throws IllegalArgumentException if the length is not a whole number of float32 values
   */
  public static float[] fromBytes(byte[] bytes) {
    if (bytes.length % Float.BYTES != 0) {
      throw new IllegalArgumentException(
          "tensor payload of " + bytes.length + " bytes is not a whole number of float32 values");
    }
    float[] values = new float[bytes.length / Float.BYTES];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    return values;
  }

  /**
   * Decodes straight from the buffers the bytes are in (a received payload's chunks), one copy.
   *
   * @throws IllegalArgumentException if the length is not a whole number of float32 values
   */
  public static float[] fromBytes(ByteString bytes) {
    List<ByteBuffer> parts = bytes.asReadOnlyByteBufferList();
    if (bytes.size() % Float.BYTES != 0 || parts.stream().anyMatch(part -> part.remaining() % Float.BYTES != 0)) {
      return fromBytes(bytes.toByteArray());  // a value split between two parts; or refused there
    }
    float[] values = new float[bytes.size() / Float.BYTES];
    FloatBuffer out = FloatBuffer.wrap(values);
    for (ByteBuffer part : parts) {
      out.put(part.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
    }
    return values;
  }

  /** Index of the first NaN or infinite value, or -1 if all values are finite. */
  public static int firstNonFinite(float[] values) {
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        return i;
      }
    }
    return -1;
  }
}
