package org.medfed.coordinator.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.medfed.wire.Tensors;

/**
 * How the coordinator writes a file under its data folder: all of it, forced to disk. One abstract
 * method, so a test can stand in for a disk that fills up and empties again on demand.
 */
@FunctionalInterface
public interface DataFiles {

  /**
   * Creates or replaces {@code file} with {@code bytes} and forces them to disk.
   *
   * @throws IOException when the disk refuses them, a full one among others
   */
  void write(Path file, byte[] bytes) throws IOException;

  /**
   * Creates or replaces {@code file} with {@code values} as little-endian float32 ({@link Tensors#toBytes})
   * and forces them to disk. The local file system streams them, so a model checkpoint needs no
   * model-sized byte array (issue 16 item 2); this default, for stand-ins, encodes them whole.
   *
   * @throws IOException when the disk refuses them
   */
  default void writeFloats(Path file, FloatBuffer values) throws IOException {
    float[] copy = new float[values.remaining()];
    values.duplicate().get(copy);
    write(file, Tensors.toBytes(copy));
  }

  /** The local file system. */
  static DataFiles local() {
    return new DataFiles() {
      @Override
      public void write(Path file, byte[] bytes) throws IOException {
        try (FileChannel channel = open(file)) {
          writeAll(channel, ByteBuffer.wrap(bytes));
          force(channel);
        }
      }

      @Override
      public void writeFloats(Path file, FloatBuffer values) throws IOException {
        try (FileChannel channel = open(file)) {
          Tensors.encodeInPieces(values, piece -> writeAll(channel, piece));
          force(channel);
        }
      }

      private FileChannel open(Path file) throws IOException {
        return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING);
      }

      private void writeAll(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
      }

      // A checkpoint is renamed into place next; the rename is only as durable as the bytes under it.
      private void force(FileChannel channel) throws IOException {
        channel.force(true);
      }
    };
  }
}
