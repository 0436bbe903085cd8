package org.medfed.coordinator.store;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
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
  private final Path root;

  public CheckpointStore(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  public void writeSpec(String jobId, String specJson) {
    try {
      Files.createDirectories(jobDir(jobId));
      Files.writeString(jobDir(jobId).resolve("job.json"), specJson);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the job spec for " + jobId + " under " + root, e);
    }
  }

  /** @return the SHA-256 of the parameters, for logs and audit */
  public String write(String jobId, int round, GlobalModel model, Map<String, Double> metrics) {
    Path target = roundDir(jobId, round);
    Path staging = jobDir(jobId).resolve(".staging-" + round);
    try {
      Files.createDirectories(staging);
      byte[] params = Tensors.toBytes(model.parameters());
      Files.write(staging.resolve("params.f32"), params);
      Files.writeString(staging.resolve("model.json"), model.configJson());
      Files.writeString(staging.resolve("metrics.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(metrics));
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
