package org.medfed.coordinator.job;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
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
  private final JobJournal journal;
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
  public Job(String id, JobSpec spec, String digest, String submittedBy, Clock clock, JobJournal journal) {
    this.id = id;
    this.spec = spec;
    this.digest = digest;
    this.submittedBy = submittedBy;
    this.clock = clock;
    this.journal = journal;
  }

  /** A job as the database held it when the coordinator restarted: its rounds, events and status. */
  public static Job restored(String id, JobSpec spec, String digest, String submittedBy, Clock clock,
      JobJournal journal, JobStatus status, String message, List<RoundRecord> rounds, List<JobEvent> events) {
    Job job = new Job(id, spec, digest, submittedBy, clock, journal);
    job.status = status;
    job.message = message;
    job.rounds.addAll(rounds);
    job.events.addAll(events);
    if (status.isTerminal()) {
      job.finished.complete(status);
    }
    return job;
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

  /**
   * Tells watchers how many nodes have answered the current stage. Live only: not stored and not
   * replayed, so a round with hundreds of nodes does not write hundreds of rows per stage.
   */
  public void answered(String stage, AtomicInteger counter, int expected) {
    JobEvent event;
    synchronized (this) {
      // Counted under the lock, so watchers see 1/n, 2/n, ... in order.
      int answered = counter.incrementAndGet();
      int round = events.isEmpty() ? 0 : events.get(events.size() - 1).round();
      event = new JobEvent(id, clock.instant(), round, "ANSWERS", stage + ": " + answered + "/" + expected
          + " nodes answered", Map.of(), status);
      watchers.forEach(w -> w.accept(event));
    }
  }

  /** Starts a new job, or announces that a restarted coordinator picked a running one up again. */
  public void started() {
    if (status() == JobStatus.RUNNING) {
      String interrupted = interruptedStage().map(stage -> "; round " + (roundsCompleted() + 1)
          + " was interrupted at " + stage + " and starts over with fresh tasks and secure-aggregation keys")
          .orElse("");
      progress(roundsCompleted(), "RESUMED", "coordinator restarted: resuming at round " + (roundsCompleted() + 1)
          + "/" + spec.rounds() + " from the checkpoint of round " + roundsCompleted() + interrupted, Map.of());
      return;
    }
    transition(JobStatus.RUNNING, 0, "STARTED", "job started: " + spec.rounds() + " rounds on dataset '"
        + spec.dataset() + "'");
  }

  /** Steps that report on a stage rather than begin one. */
  private static final Set<String> REPORTS = Set.of("APPROVAL", "RESUMED", "PAUSED",
      "SECURE_AGGREGATION", "TRAINING", "EVALUATION");
  /** Steps after which no round is under way. */
  private static final Set<String> BETWEEN_ROUNDS = Set.of("SUBMITTED", "STARTED",
      "ROUND_COMPLETED", "ROUND_RETRY");

  /** The stage the last round had begun when the job stopped, if one was under way. */
  private synchronized Optional<String> interruptedStage() {
    for (int i = events.size() - 1; i >= 0; i--) {
      String phase = events.get(i).phase();
      if (!REPORTS.contains(phase)) {
        return BETWEEN_ROUNDS.contains(phase) ? Optional.empty() : Optional.of(phase);
      }
    }
    return Optional.empty();
  }

  /** Counts the round: stored with its event in one transaction, then shown to watchers. */
  public synchronized void roundCompleted(RoundRecord record) {
    String text = "round " + record.round() + "/" + spec.rounds() + " done with " + record.participants().size()
        + " nodes" + (record.dropped().isEmpty() ? "" : ", dropped " + record.dropped());
    JobEvent event = new JobEvent(id, clock.instant(), record.round(), "ROUND_COMPLETED", text, record.metrics(),
        status);
    journal.roundCompleted(record, event);
    rounds.add(record);
    message = text;
    deliver(event);
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
    try {
      publish(event);
    } finally {
      // Waiters learn the outcome even when the database could not store it.
      if (next.isTerminal()) {
        finished.complete(next);
      }
    }
  }

  /**
   * The event is stored before anyone acts on it; delivery happens under the lock so every watcher
   * sees events once and in order.
   */
  private synchronized void publish(JobEvent event) {
    journal.recorded(event);
    deliver(event);
  }

  private synchronized void deliver(JobEvent event) {
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
