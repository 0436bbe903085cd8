package org.medfed.coordinator.job;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A submitted job's live state and history. The round state machine reports into it; admin calls
 * read it; watchers subscribe to its events. Thread-safe: all state changes hold the job's lock.
 */
public final class Job {
  private static final Logger log = LoggerFactory.getLogger(Job.class);

  private final String id;
  private final JobSpec spec;
  private final String digest;
  private final String submittedBy;
  private final Clock clock;
  private final List<RoundRecord> rounds = new ArrayList<>();
  private final List<JobEvent> events = new ArrayList<>();
  private final List<Consumer<JobEvent>> watchers = new CopyOnWriteArrayList<>();
  private final CompletableFuture<String> cancellation = new CompletableFuture<>();
  private final CompletableFuture<JobStatus> finished = new CompletableFuture<>();
  private JobStatus status = JobStatus.PENDING;
  private String message = "waiting to start";

  /**
   * @param digest what hospitals approve (see {@link JobTerms#digest})
   * @param submittedBy the certificate name of the admin who submitted it
   */
  public Job(String id, JobSpec spec, String digest, String submittedBy, Clock clock) {
    this.id = id;
    this.spec = spec;
    this.digest = digest;
    this.submittedBy = submittedBy;
    this.clock = clock;
  }

  public String digest() {
    return digest;
  }

  public String submittedBy() {
    return submittedBy;
  }

  public String id() {
    return id;
  }

  public JobSpec spec() {
    return spec;
  }

  public synchronized JobStatus status() {
    return status;
  }

  public synchronized String message() {
    return message;
  }

  public synchronized List<RoundRecord> rounds() {
    return List.copyOf(rounds);
  }

  public synchronized int roundsCompleted() {
    return rounds.size();
  }

  /** Completes with the reason when someone cancels the job. */
  public CompletableFuture<String> cancellation() {
    return cancellation;
  }

  public boolean isCancelled() {
    return cancellation.isDone();
  }

  /** Completes with the terminal status. */
  public CompletableFuture<JobStatus> finished() {
    return finished;
  }

  /** Returns false if the job had already ended. */
  public boolean cancel(String reason) {
    synchronized (this) {
      if (status.isTerminal()) {
        return false;
      }
    }
    cancellation.complete(reason);
    return true;
  }

  /** Records progress within a round. */
  public void progress(int round, String phase, String text, Map<String, Double> metrics) {
    JobStatus current;
    synchronized (this) {
      message = text;
      current = status;
    }
    publish(new JobEvent(id, clock.instant(), round, phase, text, metrics, current));
  }

  public void started() {
    transition(JobStatus.RUNNING, 0, "STARTED", "job started: " + spec.rounds() + " rounds on dataset '"
        + spec.dataset() + "'");
  }

  public void roundCompleted(RoundRecord record) {
    synchronized (this) {
      rounds.add(record);
    }
    progress(record.round(), "ROUND_COMPLETED", "round " + record.round() + "/" + spec.rounds() + " done with "
        + record.participants().size() + " nodes" + (record.dropped().isEmpty() ? "" : ", dropped " + record.dropped()),
        record.metrics());
  }

  public void succeeded() {
    transition(JobStatus.SUCCEEDED, roundsCompleted(), "SUCCEEDED", "job finished all " + spec.rounds() + " rounds");
  }

  public void failed(int round, String reason) {
    transition(JobStatus.FAILED, round, "FAILED", reason);
  }

  public void cancelled(int round, String reason) {
    transition(JobStatus.CANCELLED, round, "CANCELLED", "job cancelled: " + reason);
  }

  private void transition(JobStatus next, int round, String phase, String text) {
    JobEvent event;
    synchronized (this) {
      if (status.isTerminal()) {
        return;
      }
      status = next;
      message = text;
      event = new JobEvent(id, clock.instant(), round, phase, text, Map.of(), next);
    }
    if (next == JobStatus.FAILED) {
      log.warn("job {}: {}", id, text);
    }
    publish(event);
    if (next.isTerminal()) {
      finished.complete(next);
    }
  }

  /** Delivery happens under the lock so every watcher sees events once and in order. */
  private synchronized void publish(JobEvent event) {
    events.add(event);
    log.info("job {} [{}] {}", id, event.phase(), event.message());
    watchers.forEach(w -> w.accept(event));
  }

  /**
   * Delivers every past event to {@code watcher}, then each new one, in order.
   *
   * @return a handle that stops the delivery
   */
  public synchronized Runnable watch(Consumer<JobEvent> watcher) {
    events.forEach(watcher);
    watchers.add(watcher);
    return () -> watchers.remove(watcher);
  }
}
