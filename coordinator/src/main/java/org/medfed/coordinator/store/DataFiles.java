package org.medfed.coordinator.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * How the coordinator writes a file under its data folder: all of it, forced to disk. One method,
 * so a test can stand in for a disk that fills up and empties again on demand.
 */
@FunctionalInterface
public interface DataFiles {

  /**
   * Creates or replaces {@code file} with {@code bytes} and forces them to disk.
   *
   * @throws IOException when the disk refuses them, a full one among others
   */
  void write(Path file, byte[] bytes) throws IOException;

  /** The local file system. */
  static DataFiles local() {
    return (file, bytes) -> {
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        // A checkpoint is renamed into place next; the rename is only as durable as the bytes under it.
        channel.force(true);
      }
    };
  }
}
