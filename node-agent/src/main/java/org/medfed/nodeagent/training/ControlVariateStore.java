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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The hospital's SCAFFOLD control variates c_i, one file per job under the agent's state folder, so
 * that they outlive rounds and agent restarts. A hospital that missed rounds still holds the c_i of
 * the last round it took part in, which is what SCAFFOLD expects of a client not sampled for a while.
 *
 * <p>The file also keeps the c_i the newest one was trained from. A hospital keeps c_i+ once its
 * update is in the coordinator's hands, but the round can still fail or the coordinator die before
 * its checkpoint; the coordinator then redoes the round with the same number from the previous
 * checkpoint, whose c lacks this hospital's Δc. Training round r therefore starts from the newest c_i
 * kept by a round before r ({@link #before}), so a redone round steps as the first attempt did.
 *
 * <p>Each write goes to a temporary file that is forced to disk and then renamed over the old one
 * (and the folder forced), so a crash leaves the old c_i or the new one, never a torn one. A file
 * that fails its SHA-256 is refused, never silently reset to zero. Thread-safe per job.
 */
public final class ControlVariateStore {
  // v1 held one c_i; v2 holds the newest and the one before it, oldest first.
  private static final String MAGIC_V1 = "medfed-control-variate/v1";
  private static final String MAGIC = "medfed-control-variate/v2";
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
   * The job's newest c_i; zeros (round 0) for a job this hospital never trained, as the paper initialises it.
   *
   * @throws IllegalStateException when the file is damaged or holds another model size
   */
  public synchronized Stored load(String jobId, int parameterCount) {
    List<Stored> kept = read(jobId, parameterCount);
    return kept.isEmpty() ? new Stored(new double[parameterCount], 0) : kept.get(kept.size() - 1);
  }

  /**
   * The c_i to train round {@code round} from: the newest kept by an earlier round, so that a round
   * redone after a failure or a coordinator crash ignores what its first attempt kept.
   *
   * @throws IllegalStateException when the file is damaged or holds another model size
   */
  public synchronized Stored before(String jobId, int round, int parameterCount) {
    List<Stored> kept = read(jobId, parameterCount);
    for (int i = kept.size() - 1; i >= 0; i--) {
      if (kept.get(i).round() < round) {
        return kept.get(i);
      }
    }
    return new Stored(new double[parameterCount], 0);
  }

  /**
   * Keeps {@code values} as the job's c_i of {@code round}, with the newest one of an earlier round
   * beside it (a second attempt of a round replaces the first's), durably: temporary file, fsync,
   * atomic rename, fsync of the folder.
   */
  public synchronized void save(String jobId, int round, double[] values) {
    Path file = file(jobId);
    List<Stored> kept = new ArrayList<>();
    for (Stored earlier : read(jobId, values.length)) {
      if (earlier.round() < round) {
        kept.clear();
        kept.add(earlier);
      }
    }
    kept.add(new Stored(values, round));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF(MAGIC);
      out.writeUTF(jobId);
      out.writeInt(kept.size());
      for (Stored entry : kept) {
        out.writeInt(entry.round());
        out.writeInt(entry.values.length);
        for (double value : entry.values) {
          out.writeDouble(value);
        }
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

  /** The job's kept c_i, oldest first; none for a job this hospital never trained. */
  private List<Stored> read(String jobId, int parameterCount) {
    Path file = file(jobId);
    if (!Files.exists(file)) {
      return List.of();
    }
    try {
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length < 32 || !Arrays.equals(sha256(bytes, bytes.length - 32),
          Arrays.copyOfRange(bytes, bytes.length - 32, bytes.length))) {
        throw damaged(file, jobId, "it fails its SHA-256");
      }
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, 0, bytes.length - 32));
      String magic = in.readUTF();
      if (!(magic.equals(MAGIC) || magic.equals(MAGIC_V1)) || !in.readUTF().equals(jobId)) {
        throw damaged(file, jobId, "it is not this job's control variate");
      }
      int entries = magic.equals(MAGIC_V1) ? 1 : in.readInt();
      if (entries < 1 || entries > 2) {
        throw damaged(file, jobId, "it claims " + entries + " control variates");
      }
      List<Stored> kept = new ArrayList<>();
      for (int e = 0; e < entries; e++) {
        int round = in.readInt();
        int count = in.readInt();
        if (count != parameterCount) {
          throw new IllegalStateException("the SCAFFOLD control variate of job " + jobId + " in " + file + " has "
              + count + " values but the job's model has " + parameterCount + "; the job's model changed under it");
        }
        double[] values = new double[count];
        for (int i = 0; i < count; i++) {
          values[i] = in.readDouble();
        }
        kept.add(new Stored(values, round));
      }
      return kept;
    } catch (IOException e) {
      throw damaged(file, jobId, e.toString());
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
