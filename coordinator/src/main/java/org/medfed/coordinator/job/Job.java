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
  /** Events shown to watchers while the store refused them; stored, in order, before the next one. */
  private final List<JobEvent> unstored = new ArrayList<>();
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

  /**
   * The job again, running, after it failed: an administrator resumes it from its last counted
   * round. A new object, because watchers and waiters of the failed one were told it ended.
   */
  public static Job reopened(Job ended) {
    synchronized (ended) {
      if (ended.status != JobStatus.FAILED) {
        throw new IllegalStateException("only a failed job is reopened; job " + ended.id + " is " + ended.status);
      }
      Job job = restored(ended.id, ended.spec, ended.digest, ended.submittedBy, ended.clock, ended.journal,
          JobStatus.RUNNING, ended.message, ended.rounds, ended.events);
      job.unstored.addAll(ended.unstored);
      return job;
    }
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
    started("coordinator restarted");
  }

  /**
   * Starts a new job, or announces that a running one goes on after a stop.
   *
   * @param why what stopped it, when it was running: "coordinator restarted", "storage writable again"
   */
  public void started(String why) {
    if (status() == JobStatus.RUNNING) {
      String interrupted = interruptedStage().map(stage -> "; round " + (roundsCompleted() + 1)
          + " was interrupted at " + stage + " and starts over with fresh tasks and secure-aggregation keys")
          .orElse("");
      progress(roundsCompleted(), "RESUMED", why + ": resuming at round " + (roundsCompleted() + 1)
          + "/" + spec.rounds() + " from the checkpoint of round " + roundsCompleted() + interrupted, Map.of());
      return;
    }
    transition(JobStatus.RUNNING, 0, "STARTED", "job started: " + spec.rounds() + " rounds on dataset '"
        + spec.dataset() + "'");
  }

  /** Steps that report on a stage rather than begin one. */
  private static final Set<String> REPORTS = Set.of("APPROVAL", "RESUMED", "PAUSED", "STORAGE_PAUSED", "FAILED",
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
    storeUnstored();
    journal.roundCompleted(record, event);
    rounds.add(record);
    message = text;
    deliver(event);
  }

  public void succeeded() {
    transition(JobStatus.SUCCEEDED, roundsCompleted(), "SUCCEEDED", "job finished all " + spec.rounds() + " rounds"
        + bestRound().map(best -> "; keeping round " + best.round() + " (" + spec.selection().describe(best) + ")")
            .orElse(""));
  }

  /** Patience ran out: the job ends successfully before its last round (see {@link ModelSelection}). */
  public void stoppedEarly(String reason) {
    transition(JobStatus.SUCCEEDED, roundsCompleted(), "SUCCEEDED", reason);
  }

  /** The round whose model the job keeps by its {@link ModelSelection}; empty before any round reports the metric. */
  public synchronized Optional<RoundRecord> bestRound() {
    return spec.selection().best(rounds);
  }

  public void failed(int round, String reason) {
    transition(JobStatus.FAILED, round, "FAILED", reason);
  }

  public void cancelled(int round, String reason) {
    transition(JobStatus.CANCELLED, round, "CANCELLED", "job cancelled: " + reason);
  }

  /**
   * The job is stopped because its state cannot be written; it stays running and goes on from its
   * last checkpoint. Watchers are told even when the store refuses the event too; it is then
   * stored before the next one.
   */
  public void pausedForStorage(int round, String text) {
    JobEvent event;
    synchronized (this) {
      message = text;
      event = new JobEvent(id, clock.instant(), round, "STORAGE_PAUSED", text, Map.of(), status);
      try {
        storeUnstored();
        journal.recorded(event);
      } catch (RuntimeException e) {
        log.warn("job {}: the STORAGE_PAUSED step is shown but not stored yet: {}", id, e.getMessage());
        unstored.add(event);
      }
      deliver(event);
    }
  }

  /**
   * Ends the job. Stored first: when the store refuses, the job has not ended (the caller pauses
   * it), so the database, watchers and waiters never disagree about how a job ended.
   */
  private void transition(JobStatus next, int round, String phase, String text) {
    synchronized (this) {
      if (status.isTerminal()) {
        return;
      }
      JobEvent event = new JobEvent(id, clock.instant(), round, phase, text, Map.of(), next);
      storeUnstored();
      journal.recorded(event);
      status = next;
      message = text;
      deliver(event);
    }
    if (next == JobStatus.FAILED) {
      log.warn("job {}: {}", id, text);
    }
    if (next.isTerminal()) {
      finished.complete(next);
    }
  }

  /**
   * The event is stored before anyone acts on it; delivery happens under the lock so every watcher
   * sees events once and in order.
   */
  private synchronized void publish(JobEvent event) {
    storeUnstored();
    journal.recorded(event);
    deliver(event);
  }

  /** Events shown while the store refused them, stored in order before anything newer. */
  private synchronized void storeUnstored() {
    while (!unstored.isEmpty()) {
      journal.recorded(unstored.get(0));
      unstored.remove(0);
    }
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
