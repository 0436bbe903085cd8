package org.medfed.nodeagent.training;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The hospital's SCAFFOLD control variates c_i, one file per job under the agent's state folder, so
 * that they outlive rounds and agent restarts. A hospital that missed rounds still holds the c_i of
 * the last round it took part in, which is what SCAFFOLD expects of a client not sampled for a while.
 *
 * <p>Each write goes to a temporary file that is forced to disk and then renamed over the old one
 * (and the folder forced), so a crash leaves the old c_i or the new one, never a torn one. A file
 * that fails its SHA-256 is refused, never silently reset to zero. Thread-safe per job.
 */
public final class ControlVariateStore {
  private static final String MAGIC = "medfed-control-variate/v1";
  private final Path folder;

  /** @param stateDir the agent's state folder; the files go into its {@code control-variates} folder */
  public ControlVariateStore(Path stateDir) {
    this.folder = stateDir.resolve("control-variates");
  }

  /** A stored control variate, and the round that produced it. */
  public record Stored(double[] values, int round) {
    public Stored {
      values = values.clone();
    }

    @Override
    public double[] values() {
      return values.clone();
    }
  }

  /**
   * The job's c_i; zeros (round 0) for a job this hospital never trained, as the paper initialises it.
   *
   * @throws IllegalStateException when the file is damaged or holds another model size
   */
  public synchronized Stored load(String jobId, int parameterCount) {
    Path file = file(jobId);
    if (!Files.exists(file)) {
      return new Stored(new double[parameterCount], 0);
    }
    try {
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length < 32 || !Arrays.equals(sha256(bytes, bytes.length - 32),
          Arrays.copyOfRange(bytes, bytes.length - 32, bytes.length))) {
        throw damaged(file, jobId, "it fails its SHA-256");
      }
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, 0, bytes.length - 32));
      if (!in.readUTF().equals(MAGIC) || !in.readUTF().equals(jobId)) {
        throw damaged(file, jobId, "it is not this job's control variate");
      }
      int round = in.readInt();
      int count = in.readInt();
      if (count != parameterCount) {
        throw new IllegalStateException("the SCAFFOLD control variate of job " + jobId + " in " + file + " has " + count
            + " values but the job's model has " + parameterCount + "; the job's model changed under it");
      }
      double[] values = new double[count];
      for (int i = 0; i < count; i++) {
        values[i] = in.readDouble();
      }
      return new Stored(values, round);
    } catch (IOException e) {
      throw damaged(file, jobId, e.toString());
    }
  }

  /** Replaces the job's c_i durably (temporary file, fsync, atomic rename, fsync of the folder). */
  public synchronized void save(String jobId, int round, double[] values) {
    Path file = file(jobId);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF(MAGIC);
      out.writeUTF(jobId);
      out.writeInt(round);
      out.writeInt(values.length);
      for (double value : values) {
        out.writeDouble(value);
      }
      out.write(sha256(bytes.toByteArray(), bytes.size()));
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory failed", e);
    }
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.createDirectories(folder);
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes.toByteArray());
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      forceFolder();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot store the SCAFFOLD control variate of job " + jobId + " round " + round
          + " in " + file, e);
    }
  }

  /** The rename is durable only once the folder's entry is; some file systems cannot force a folder. */
  private void forceFolder() {
    try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // Windows cannot open a folder; there the rename is as durable as the file system makes it.
    }
  }

  /** Job ids are the coordinator's; a hash keeps any of them a safe file name. */
  private Path file(String jobId) {
    byte[] id = jobId.getBytes(StandardCharsets.UTF_8);
    return folder.resolve(HexFormat.of().formatHex(sha256(id, id.length), 0, 16) + ".bin");
  }

  private static IllegalStateException damaged(Path file, String jobId, String why) {
    return new IllegalStateException("the SCAFFOLD control variate of job " + jobId + " in " + file + " is damaged ("
        + why + "); restore it from a backup, or delete it to restart this hospital's control variate from zero");
  }

  private static byte[] sha256(byte[] bytes, int length) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(bytes, 0, length);
      return digest.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }
}
