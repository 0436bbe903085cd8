package org.medfed.wire;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;

/** Encodes flat parameter vectors as little-endian float32 bytes, the wire format for every tensor. */
public final class Tensors {
  private Tensors() {}

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
