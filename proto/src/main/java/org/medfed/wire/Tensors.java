package org.medfed.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

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
