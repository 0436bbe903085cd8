package org.medfed.coordinator.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * An OS lock on a file beside an embedded (SQLite) store, held while this process lives: the
 * kernel releases it when the process ends, however it ends. Whoever holds it knows that no
 * other coordinator process is alive on that store, so it may take the {@link Lease} at once
 * instead of waiting for a dead holder's to expire (a restart after SIGKILL resumes at once).
 */
public final class StoreLock implements AutoCloseable {
  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private StoreLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /** The lock file of an embedded store: {@code medfed.db.lock} beside {@code medfed.db}. */
  public static Optional<Path> fileFor(Database.Settings settings) {
    if (!settings.isEmbedded()) {
      return Optional.empty();
    }
    return Optional.of(Path.of(settings.url().substring("jdbc:sqlite:".length()) + ".lock").toAbsolutePath());
  }

  /**
   * Takes the lock without waiting.
   *
   * @return empty when another process (or another coordinator in this one) holds it
   * @throws IOException when the file cannot be created or locked at all, naming it
   */
  public static Optional<StoreLock> tryLock(Path file) throws IOException {
    FileChannel channel;
    try {
      Files.createDirectories(file.getParent());
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new IOException("cannot open the store's lock file " + file + ": " + e.getMessage()
          + " (is the data folder writable?)", e);
    }
    try {
      FileLock lock = channel.tryLock();
      if (lock != null) {
        return Optional.of(new StoreLock(file, channel, lock));
      }
    } catch (OverlappingFileLockException e) {
      // Another coordinator in this JVM holds it: the same answer as for another process.
    } catch (IOException e) {
      channel.close();
      throw new IOException("cannot lock " + file + ": " + e.getMessage(), e);
    }
    channel.close();
    return Optional.empty();
  }

  public Path file() {
    return file;
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
