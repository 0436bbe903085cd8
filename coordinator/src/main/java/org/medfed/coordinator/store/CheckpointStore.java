package org.medfed.coordinator.store;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.DoubleBuffer;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.wire.Digests;
import org.medfed.wire.Tensors;

/**
 * Per-round checkpoints on disk: {@code <root>/<job>/round-0007/{model.json, params.f32, metrics.json}}.
 * A round's folder is written aside and renamed into place, so a crash never leaves half a checkpoint.
 */
public final class CheckpointStore {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String STRATEGY_STATE = "strategy-state.f64";
  private final Path root;
  private final DataFiles files;

  public CheckpointStore(Path root) {
    this(root, DataFiles.local());
  }

  /** @param files how files are written (a test passes a disk that fills up on demand) */
  public CheckpointStore(Path root, DataFiles files) {
    this.root = root;
    this.files = files;
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

  /**
   * @param strategyState what the job's strategy carries to the next round (server momentum), if anything
   * @return the SHA-256 of the parameters, stored with the round and checked when a job resumes from it
   */
  public String write(String jobId, int round, GlobalModel model, Map<String, Double> metrics,
      Optional<double[]> strategyState) {
    Path target = roundDir(jobId, round);
    Path staging = jobDir(jobId).resolve(".staging-" + round);
    try {
      Files.createDirectories(staging);
      byte[] params = Tensors.toBytes(model.parameters());
      files.write(staging.resolve("params.f32"), params);
      files.write(staging.resolve("model.json"), model.configJson().getBytes(StandardCharsets.UTF_8));
      files.write(staging.resolve("metrics.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(metrics));
      if (strategyState.isPresent()) {
        ByteBuffer state = ByteBuffer.allocate(strategyState.get().length * Double.BYTES)
            .order(ByteOrder.LITTLE_ENDIAN);
        state.asDoubleBuffer().put(strategyState.get());
        files.write(staging.resolve(STRATEGY_STATE), state.array());
      }
      if (Files.exists(target)) {
        deleteRecursively(target);
      }
      try {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(staging, target);
      }
      return Digests.hex(Digests.sha256(params));
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

  public Optional<GlobalModel> read(String jobId, int round) {
    Path dir = roundDir(jobId, round);
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    try {
      return Optional.of(new GlobalModel(Files.readString(dir.resolve("model.json")),
          Tensors.fromBytes(Files.readAllBytes(dir.resolve("params.f32")))));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoint " + dir, e);
    }
  }

  /**
   * The round's model, checked against the digest the database recorded for it.
   *
   * @throws IllegalStateException naming the folder when the files are missing or differ
   */
  public GlobalModel readVerified(String jobId, int round, String expectedSha256) {
    Path dir = roundDir(jobId, round);
    GlobalModel model = read(jobId, round).orElseThrow(() -> new IllegalStateException("the checkpoint of round "
        + round + " is missing: " + dir + " does not exist; restore the data folder from a backup"));
    String actual = Digests.hex(Digests.sha256(Tensors.toBytes(model.parameters())));
    if (!actual.equals(expectedSha256)) {
      throw new IllegalStateException("the checkpoint " + dir + " has SHA-256 " + actual + " but the database recorded "
          + expectedSha256 + " for round " + round + "; the file was changed or replaced; restore it from a backup");
    }
    return model;
  }

  /** The strategy state checkpointed with the round, if its strategy keeps any. */
  public Optional<double[]> readStrategyState(String jobId, int round) {
    Path file = roundDir(jobId, round).resolve(STRATEGY_STATE);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      DoubleBuffer values = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN)
          .asDoubleBuffer();
      double[] state = new double[values.remaining()];
      values.get(state);
      return Optional.of(state);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  public Map<String, Double> readMetrics(String jobId, int round) {
    try {
      return JSON.readValue(roundDir(jobId, round).resolve("metrics.json").toFile(), new TypeReference<>() {});
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
          .filter(n -> n.matches("round-\\d{4,}"))
          .mapToInt(n -> Integer.parseInt(n.substring("round-".length())))
          .max();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list checkpoints of job " + jobId, e);
    }
  }

  private Path jobDir(String jobId) {
    return root.resolve(jobId);
  }

  private Path roundDir(String jobId, int round) {
    return jobDir(jobId).resolve(String.format("round-%04d", round));
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
