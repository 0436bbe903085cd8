package org.medfed.nodeagent.privacy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.medfed.privacy.RdpCurve;
import org.medfed.privacy.SampledGaussian;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hospital's durable record of the privacy its data has spent: one line per DP-SGD round, written
 * and forced to disk after the round trained and before its update leaves, so a crash can only
 * over-count. A line holds the mechanism (q, σ, steps), from which its RDP curve is recomputed;
 * curves of one job, or of every job on a dataset, compose by adding per order. Thread-safe.
 */
public final class PrivacyLedger {
  private static final Logger log = LoggerFactory.getLogger(PrivacyLedger.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One round's spending on one dataset. */
  public record Charge(String dataset, String jobId, int round, double sampleRate, double noiseMultiplier, long steps,
      long atUnixMillis) {
    RdpCurve curve() {
      return SampledGaussian.steps(sampleRate, noiseMultiplier, steps, RdpCurve.DEFAULT_ORDERS);
    }
  }

  private final Path file;
  private final Consumer<Charge> recorded;
  private final List<Charge> charges = new ArrayList<>();

  /** Opens the ledger in {@code stateDir}, reading every charge recorded before (across restarts). */
  public PrivacyLedger(Path stateDir) {
    this(stateDir, charge -> { });
  }

  /** @param recorded told of each charge once it is on disk (the agent writes it to its audit log) */
  public PrivacyLedger(Path stateDir, Consumer<Charge> recorded) {
    this.file = stateDir.resolve("privacy-ledger.jsonl");
    this.recorded = recorded;
    try {
      if (Files.exists(file)) {
        dropTornTail();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        int line = 0;
        for (String text : lines) {
          line++;
          if (text.isBlank()) {
            continue;
          }
          try {
            charges.add(JSON.readValue(text, Charge.class));
          } catch (IOException e) {
            throw new IllegalStateException("privacy ledger " + file + " line " + line + " is damaged ("
                + e.getMessage() + "); restore it from a backup: the agent cannot know what was spent", e);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the privacy ledger " + file, e);
    }
  }

  /**
   * Cuts a last line without its newline: a crash mid-write tore it, and {@link #charge} had not
   * returned, so that round's update never left. Left in place, the next charge would be appended to
   * the fragment and the ledger would no longer read.
   */
  private void dropTornTail() throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long end = channel.size();
      ByteBuffer one = ByteBuffer.allocate(1);
      long keep = end;
      while (keep > 0) {
        one.clear();
        channel.read(one, keep - 1);
        if (one.get(0) == '\n') {
          break;
        }
        keep--;
      }
      if (keep < end) {
        log.warn("privacy ledger {}: dropping {} bytes of a record torn by a crash mid-write (its round's update was"
            + " never sent)", file, end - keep);
        channel.truncate(keep);
        channel.force(true);
      }
    }
  }

  /** Records a charge durably (fsync) before the caller lets the round's update leave the hospital. */
  public synchronized void charge(Charge charge) {
    try {
      Files.createDirectories(file.getParent());
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.APPEND)) {
        channel.write(ByteBuffer.wrap((JSON.writeValueAsString(charge) + "\n").getBytes(StandardCharsets.UTF_8)));
        channel.force(true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record the privacy spent by round " + charge.round() + " of job "
          + charge.jobId() + " in " + file + "; the update is not sent", e);
    }
    charges.add(charge);
    recorded.accept(charge);
  }

  /**
   * Why a round must not run on {@code dataset} under {@code budget}: what the jobs on it spent
   * within the budget's window plus what this round would spend passes the budget's ε, or the job
   * trains without DP-SGD (a round then has no bound at all). Empty when the round fits.
   *
   * @param round the RDP the round would spend; empty for a job without DP-SGD
   */
  public synchronized Optional<String> refusal(String dataset, PrivacyBudget budget, Optional<RdpCurve> round,
      Instant now) {
    if (round.isEmpty()) {
      return Optional.of("dataset '" + dataset + "' has a privacy budget (epsilon " + budget.describe() + ") and this"
          + " job trains without DP-SGD, which no budget can bound; the consortium can add privacy.dp_sgd to the job");
    }
    RdpCurve spent = spentOn(dataset, now.minus(budget.window()));
    double after = spent.plus(round.get()).epsilon(budget.delta()).epsilon();
    if (after > budget.epsilon()) {
      return Optional.of(String.format(Locale.ROOT, "privacy budget for '%s' would reach epsilon = %.2f of %.1f"
          + " (%d d window; %.2f spent before this round)", dataset, after, budget.epsilon(), budget.window().toDays(),
          spent.epsilon(budget.delta()).epsilon()));
    }
    return Optional.empty();
  }

  /** What one job has spent here, over all its rounds. */
  public synchronized RdpCurve spentBy(String jobId) {
    return compose(c -> c.jobId().equals(jobId));
  }

  /** What every job has spent on a dataset since {@code since}. */
  public synchronized RdpCurve spentOn(String dataset, Instant since) {
    return compose(c -> c.dataset().equals(dataset) && c.atUnixMillis() >= since.toEpochMilli());
  }

  public synchronized List<Charge> charges() {
    return List.copyOf(charges);
  }

  private RdpCurve compose(Predicate<Charge> which) {
    RdpCurve total = RdpCurve.zero(RdpCurve.DEFAULT_ORDERS);
    for (Charge charge : charges) {
      if (which.test(charge)) {
        total = total.plus(charge.curve());
      }
    }
    return total;
  }
}
