package org.medfed.nodeagent.baseline;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.nodeagent.training.TrainingPlan;
import org.medfed.wire.Digests;

/**
 * A hospital's local-only models, one per job and dataset, for jobs with {@code local_baseline}: each
 * starts from the first global model the hospital receives and trains one round's work (the job's own
 * plan, without FedProx's proximal term) each round the hospital trains in, so federated and local
 * models get the same budget. Evaluations then report both on the hospital's own test split. The
 * local models never leave the hospital; they are kept on its disk (written atomically) so an agent
 * restart goes on with them, and a round trained again (a retry, a resumed coordinator) is not counted
 * twice. Thread-safe.
 */
public final class LocalBaselines {
  private static final String FORMAT = "medfed-local-baseline/v1";

  private final Path directory;
  private final LocalTrainer trainer;
  /** Baselines whose round is still training, so an evaluation of that round waits for it. */
  private final Map<String, CompletableFuture<Void>> training = new ConcurrentHashMap<>();

  public LocalBaselines(Path stateDir, LocalTrainer trainer) {
    this.directory = stateDir.resolve("baselines");
    this.trainer = trainer;
  }

  /** A local model as stored: the rounds it trained for and its parameters. */
  public record Stored(int firstRound, int lastRound, int roundsTrained, float[] parameters) {
    public Stored {
      parameters = parameters.clone();
    }

    @Override
    public float[] parameters() {
      return parameters.clone();
    }
  }

  /**
   * Marks the job's local model as about to train, before the federated part of the round runs, so
   * that an evaluation arriving meanwhile waits for it; closing the ticket ends the wait.
   */
  public Ticket expect(String jobId, String dataset) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    training.put(key(jobId, dataset), done);
    return new Ticket(jobId, dataset, done);
  }

  /** One round's pending local training. */
  public final class Ticket implements AutoCloseable {
    private final String jobId;
    private final String dataset;
    private final CompletableFuture<Void> done;

    private Ticket(String jobId, String dataset, CompletableFuture<Void> done) {
      this.jobId = jobId;
      this.dataset = dataset;
      this.done = done;
    }

    /**
     * Trains the local model for {@code round}, unless it already did, starting from
     * {@code firstGlobal} when this job has none yet.
     *
     * @return the stored model after this round
     */
    public Stored train(int round, TrainingPlan plan, Supplier<float[]> firstGlobal, LocalDataset data,
        CancellationToken cancel) {
      Optional<Stored> stored = load(jobId, dataset);
      if (stored.isPresent() && stored.get().lastRound() >= round) {
        return stored.get();
      }
      float[] start = stored.map(Stored::parameters).orElseGet(firstGlobal);
      float[] trained = trainer.train(plan.forLocalOnly(), start, data, cancel).parameters();
      if (trained.length != start.length) {
        throw new IllegalStateException("local-only training returned " + trained.length + " parameters for a model of "
            + start.length);
      }
      Stored next = new Stored(stored.map(Stored::firstRound).orElse(round), round,
          stored.map(Stored::roundsTrained).orElse(0) + 1, trained);
      save(jobId, dataset, next);
      return next;
    }

    @Override
    public void close() {
      training.remove(key(jobId, dataset), done);
      done.complete(null);
    }
  }

  /**
   * The local model's test metrics, named {@code local_*}, with {@code local_rounds} the rounds it
   * trained for; empty when this hospital has not trained one for the job yet. Waits up to
   * {@code wait} for a round still training.
   */
  public Optional<Map<String, Double>> evaluate(String jobId, String dataset, TrainingPlan plan, LocalDataset data,
      Duration wait) throws InterruptedException, TimeoutException {
    CompletableFuture<Void> pending = training.get(key(jobId, dataset));
    if (pending != null) {
      try {
        pending.get(Math.max(1, wait.toMillis()), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        throw new IllegalStateException("local-only training failed", e.getCause());
      }
    }
    Optional<Stored> stored = load(jobId, dataset);
    if (stored.isEmpty()) {
      return Optional.empty();
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    trainer.evaluate(plan, stored.get().parameters(), data).metrics()
        .forEach((name, value) -> metrics.put("local_" + name, value));
    metrics.put("local_rounds", (double) stored.get().roundsTrained());
    return Optional.of(metrics);
  }

  /** The stored local model, if this hospital has trained one for the job. */
  public Optional<Stored> load(String jobId, String dataset) {
    Path file = file(jobId, dataset);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length < 32) {
        throw new IOException("it is " + bytes.length + " bytes long, too short to hold a local model");
      }
      byte[] body = Arrays.copyOf(bytes, bytes.length - 32);
      if (!MessageDigest.isEqual(Digests.sha256(body), Arrays.copyOfRange(bytes, bytes.length - 32, bytes.length))) {
        throw new IOException("its SHA-256 does not match its content");
      }
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(body));
      String format = in.readUTF();
      if (!format.equals(FORMAT)) {
        throw new IOException("it is in format '" + format + "', not " + FORMAT);
      }
      int firstRound = in.readInt();
      int lastRound = in.readInt();
      int rounds = in.readInt();
      float[] parameters = new float[in.readInt()];
      for (int i = 0; i < parameters.length; i++) {
        parameters[i] = in.readFloat();
      }
      return Optional.of(new Stored(firstRound, lastRound, rounds, parameters));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the local-only baseline model " + file + ": " + e.getMessage()
          + "; delete the file to start this job's baseline again from the next round's global model", e);
    }
  }

  private void save(String jobId, String dataset, Stored stored) {
    Path file = file(jobId, dataset);
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeUTF(FORMAT);
        out.writeInt(stored.firstRound());
        out.writeInt(stored.lastRound());
        out.writeInt(stored.roundsTrained());
        float[] parameters = stored.parameters();
        out.writeInt(parameters.length);
        for (float value : parameters) {
          out.writeFloat(value);
        }
      }
      byte[] body = bytes.toByteArray();
      Files.createDirectories(directory);
      Path temp = file.resolveSibling(file.getFileName() + ".tmp");
      // On disk before it replaces the last round's model: a crash leaves one or the other, whole.
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        channel.write(ByteBuffer.wrap(body));
        channel.write(ByteBuffer.wrap(Digests.sha256(body)));
        channel.force(true);
      }
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the local-only baseline model " + file + ": " + e.getMessage(), e);
    }
  }

  private Path file(String jobId, String dataset) {
    return directory.resolve(URLEncoder.encode(jobId, StandardCharsets.UTF_8) + "--"
        + URLEncoder.encode(dataset, StandardCharsets.UTF_8) + ".bin");
  }

  private static String key(String jobId, String dataset) {
    return jobId + "\n" + dataset;
  }
}
