package org.medfed.coordinator.store;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.strategy.StrategyState;
import org.medfed.wire.Digests;
import org.medfed.wire.Tensors;

/**
 * Per-round checkpoints on disk: {@code <root>/<job>/round-0007.t3/{model.json, params.f32, metrics.json}},
 * plus {@code strategy-state.bin} when the job's strategy carries state between rounds.
 * A round's folder is written aside and renamed into place, so a crash never leaves half a checkpoint.
 *
 * <p>{@code t3} is the fencing token of the store's lease under which the coordinator wrote it
 * ({@link Lease}). A coordinator paused past its lease and resumed after a standby took over is
 * fenced off the database by its old token, but a file system checks no token: it could still be
 * renaming a checkpoint into place. So each writer only ever creates, replaces or deletes folders
 * of its own token or older ones, and readers take the newest token a round has. A stale writer's
 * folder is then never read once a newer one exists, and never replaces one. Folders without a
 * token ({@code round-0007}) were written before this, or without a lease, and count as token 0.
 */
public final class CheckpointStore {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PARAMS = "params.f32";
  /**
   * FedAvgM's momentum buffer as bare float64 values, written before state had names. Still read, as
   * "velocity", so that a FedAvgM job checkpointed by an older coordinator resumes; its digest
   * covers the parameters only, as it did when it was recorded.
   */
  private static final String LEGACY_VELOCITY = "strategy-state.f64";
  private static final Pattern ROUND_DIR = Pattern.compile("round-(\\d{4,})(?:\\.t(\\d+))?");
  private final Path root;
  private final DataFiles files;
  private final long fencingToken;

  /** A store written without a lease: its folders carry token 0. */
  public CheckpointStore(Path root) {
    this(root, DataFiles.local());
  }

  /** A store written without a lease through {@code files}: a test passes a disk that fills up on demand. */
  public CheckpointStore(Path root, DataFiles files) {
    this(root, files, 0);
  }

  /**
   * @param files how files are written
   * @param fencingToken the lease token this coordinator holds, 0 without a lease
   */
  public CheckpointStore(Path root, DataFiles files, long fencingToken) {
    this.root = root;
    this.files = files;
    this.fencingToken = fencingToken;
  }

  public Path root() {
    return root;
  }

  public DataFiles files() {
    return files;
  }

  /**
   * The free space a round of {@code model} needs: its checkpoint (parameters and configuration)
   * plus a quarter, at least 1 MiB, for the database's write-ahead log and the audit log.
   */
  public static long roomForRound(GlobalModel model) {
    long checkpoint = (long) model.parameterCount() * Float.BYTES + model.configJson().length();
    return checkpoint + Math.max(1L << 20, checkpoint / 4);
  }

  public void writeSpec(String jobId, String specJson) {
    try {
      Files.createDirectories(jobDir(jobId));
      files.write(jobDir(jobId).resolve("job.json"), specJson.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the job spec for " + jobId + " under " + root, e);
    }
  }

  /** A round's verified checkpoint: the model and what the strategy carries to the next round. */
  public record Checkpoint(GlobalModel model, StrategyState strategyState) {}

  /**
   * @param strategyState what the job's strategy carries to the next round, {@link StrategyState#NONE} if nothing
   * @return the checkpoint's digest ({@link #digest}), stored with the round and checked when a job resumes from it
   */
  public String write(String jobId, int round, GlobalModel model, Map<String, Double> metrics,
      StrategyState strategyState) {
    Path target = jobDir(jobId).resolve(roundDirName(round, fencingToken));
    Path staging = jobDir(jobId).resolve(".staging-" + round + tokenSuffix(fencingToken));
    try {
      Files.createDirectories(staging);
      // Streamed from the model's own array: no model-sized byte array (issue 16 item 2).
      files.writeFloats(staging.resolve(PARAMS), model.parameterView());
      files.write(staging.resolve("model.json"), model.configJson().getBytes(StandardCharsets.UTF_8));
      files.write(staging.resolve("metrics.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(metrics));
      if (!strategyState.isEmpty()) {
        files.write(staging.resolve(StrategyStateFile.NAME), StrategyStateFile.encode(strategyState));
      }
      if (Files.exists(target)) {
        deleteRecursively(target);
      }
      try {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(staging, target);
      }
      // Older tokens' copies of this round are superseded; a newer token's is never touched.
      for (Path older : roundDirs(jobId, round)) {
        if (tokenOf(older) < fencingToken) {
          deleteRecursively(older);
        }
      }
      return digest(model.parameterView(), strategyState);
    } catch (IOException e) {
      // A half-written checkpoint on a full disk holds the very space the next try needs.
      try {
        if (Files.exists(staging)) {
          deleteRecursively(staging);
        }
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw new UncheckedIOException("cannot write the round " + round + " checkpoint of job " + jobId
          + " under " + root + " (disk full or not writable?)", e);
    }
  }

  /**
   * The SHA-256 of the parameters' bytes followed by the strategy state's canonical encoding, so a
   * changed momentum or moment file is caught on resume like a changed model. A strategy without
   * state gives the digest of the parameters alone, as every checkpoint had before state was covered.
   */
  static String digest(FloatBuffer params, StrategyState strategyState) {
    MessageDigest sha256 = Digests.newSha256();
    try {
      Tensors.encodeInPieces(params, sha256::update);
    } catch (IOException e) {
      throw new IllegalStateException("a digest does no I/O", e);
    }
    if (!strategyState.isEmpty()) {
      sha256.update(StrategyStateFile.encode(strategyState));
    }
    return Digests.hex(sha256.digest());
  }

  public Optional<GlobalModel> read(String jobId, int round) {
    Path dir = roundDir(jobId, round);
    if (dir == null || !Files.isDirectory(dir)) {
      return Optional.empty();
    }
    try {
      return Optional.of(new GlobalModel(Files.readString(dir.resolve("model.json")),
          Tensors.fromBytes(Files.readAllBytes(dir.resolve(PARAMS)))));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoint " + dir, e);
    }
  }

  /**
   * The round's model and strategy state, checked together against the digest the database recorded.
   *
   * @throws IllegalStateException naming the folder and files when they are missing or differ
   */
  public Checkpoint readVerified(String jobId, int round, String expectedSha256) {
    Path dir = roundDir(jobId, round);
    GlobalModel model = read(jobId, round).orElseThrow(() -> new IllegalStateException("the checkpoint of round "
        + round + " is missing: " + jobDir(jobId).resolve(roundDirName(round, 0)) + " (or a folder of it with a lease"
        + " token) does not exist; restore the data folder from a backup"));
    FloatBuffer params = model.parameterView();
    Path stateFile = dir.resolve(StrategyStateFile.NAME);
    Path legacyFile = dir.resolve(LEGACY_VELOCITY);
    StrategyState state;
    String actual;
    String covered;
    try {
      if (Files.exists(stateFile)) {
        state = StrategyStateFile.decode(Files.readAllBytes(stateFile), stateFile);
        actual = digest(params, state);
        covered = PARAMS + " and " + StrategyStateFile.NAME;
      } else if (Files.exists(legacyFile)) {
        state = StrategyState.of(Map.of("velocity", readLegacyVelocity(legacyFile)));
        actual = digest(params, StrategyState.NONE);
        covered = PARAMS + " (" + LEGACY_VELOCITY + " predates state digests)";
      } else {
        state = StrategyState.NONE;
        actual = digest(params, state);
        covered = PARAMS + " (no " + StrategyStateFile.NAME + ")";
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the strategy state in " + dir, e);
    }
    if (!actual.equals(expectedSha256)) {
      throw new IllegalStateException("the checkpoint " + dir + " has SHA-256 " + actual + " over " + covered
          + " but the database recorded " + expectedSha256 + " for round " + round
          + "; a file was changed, removed or replaced; restore it from a backup");
    }
    return new Checkpoint(model, state);
  }

  private static double[] readLegacyVelocity(Path file) throws IOException {
    DoubleBuffer values = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
    double[] velocity = new double[values.remaining()];
    values.get(velocity);
    return velocity;
  }

  public Map<String, Double> readMetrics(String jobId, int round) {
    try {
      Path dir = roundDir(jobId, round);
      if (dir == null) {
        throw new IOException("no folder for round " + round);
      }
      return JSON.readValue(dir.resolve("metrics.json").toFile(), new TypeReference<>() {});
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the metrics of round " + round + " of job " + jobId, e);
    }
  }

  public OptionalInt latestRound(String jobId) {
    if (!Files.isDirectory(jobDir(jobId))) {
      return OptionalInt.empty();
    }
    try (Stream<Path> dirs = Files.list(jobDir(jobId))) {
      return dirs.map(p -> p.getFileName().toString())
          .map(ROUND_DIR::matcher)
          .filter(Matcher::matches)
          .mapToInt(m -> Integer.parseInt(m.group(1)))
          .max();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list checkpoints of job " + jobId, e);
    }
  }

  private Path jobDir(String jobId) {
    return root.resolve(jobId);
  }

  /** The round's folder with the newest token, or null when the round has none. */
  private Path roundDir(String jobId, int round) {
    return roundDirs(jobId, round).stream().max(Comparator.comparingLong(CheckpointStore::tokenOf)).orElse(null);
  }

  /** Every folder of the round, whatever its token. */
  private List<Path> roundDirs(String jobId, int round) {
    if (!Files.isDirectory(jobDir(jobId))) {
      return List.of();
    }
    try (Stream<Path> dirs = Files.list(jobDir(jobId))) {
      return dirs.filter(p -> {
        Matcher m = ROUND_DIR.matcher(p.getFileName().toString());
        return m.matches() && Integer.parseInt(m.group(1)) == round;
      }).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list checkpoints of job " + jobId, e);
    }
  }

  private static String roundDirName(int round, long token) {
    return String.format("round-%04d", round) + tokenSuffix(token);
  }

  private static String tokenSuffix(long token) {
    return token == 0 ? "" : ".t" + token;
  }

  private static long tokenOf(Path roundDir) {
    Matcher m = ROUND_DIR.matcher(roundDir.getFileName().toString());
    return m.matches() && m.group(2) != null ? Long.parseLong(m.group(2)) : 0;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
