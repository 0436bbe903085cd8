package org.medfed.coordinator.store;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SortedMap;
import java.util.TreeMap;
import org.medfed.coordinator.strategy.StrategyState;

/**
 * The checkpoint encoding of a {@link StrategyState}, self-describing and canonical, so the same
 * state always gives the same bytes and the checkpoint digest can cover it. Little-endian, like
 * {@code params.f32}:
 *
 * <pre>
 * "MFSS"  int32 version (1)  int32 count
 * count × ( int32 name length, UTF-8 name, int32 value count, float64 values )   in sorted name order
 * </pre>
 */
final class StrategyStateFile {
  static final String NAME = "strategy-state.bin";
  private static final byte[] MAGIC = "MFSS".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 1;

  private StrategyStateFile() {}

  static byte[] encode(StrategyState state) {
    SortedMap<String, double[]> arrays = state.arrays();
    int size = MAGIC.length + 2 * Integer.BYTES;
    for (var entry : arrays.entrySet()) {
      size += 2 * Integer.BYTES + entry.getKey().getBytes(StandardCharsets.UTF_8).length
          + entry.getValue().length * Double.BYTES;
    }
    ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    out.put(MAGIC).putInt(VERSION).putInt(arrays.size());
    arrays.forEach((name, values) -> {
      byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
      out.putInt(utf8.length).put(utf8).putInt(values.length);
      for (double value : values) {
        out.putDouble(value);
      }
    });
    return out.array();
  }

  /** @throws IllegalStateException naming {@code file} when the bytes are not a state this class wrote */
  static StrategyState decode(byte[] bytes, Path file) {
    ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    try {
      byte[] magic = new byte[MAGIC.length];
      in.get(magic);
      int version = in.getInt();
      if (!Arrays.equals(magic, MAGIC) || version != VERSION) {
        throw corrupt(file, "it does not start with MFSS version " + VERSION);
      }
      int count = in.getInt();
      SortedMap<String, double[]> arrays = new TreeMap<>();
      for (int i = 0; i < count; i++) {
        byte[] name = new byte[checkedLength(in.getInt(), in.remaining(), file)];
        in.get(name);
        double[] values = new double[checkedLength(in.getInt(), in.remaining() / Double.BYTES, file)];
        in.asDoubleBuffer().get(values);
        in.position(in.position() + values.length * Double.BYTES);
        arrays.put(new String(name, StandardCharsets.UTF_8), values);
      }
      if (in.hasRemaining()) {
        throw corrupt(file, in.remaining() + " bytes follow the last array");
      }
      return new StrategyState(arrays);
    } catch (BufferUnderflowException e) {
      throw corrupt(file, "it ends early");
    }
  }

  private static int checkedLength(int length, int available, Path file) {
    if (length < 0 || length > available) {
      throw corrupt(file, "it declares " + length + " entries where " + available + " remain");
    }
    return length;
  }

  private static IllegalStateException corrupt(Path file, String why) {
    return new IllegalStateException("the strategy state " + file + " is not readable: " + why
        + "; the file was changed or replaced; restore it from a backup");
  }
}
