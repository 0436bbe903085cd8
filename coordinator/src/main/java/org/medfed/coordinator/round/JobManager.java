package org.medfed.coordinator.round;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.medfed.coordinator.job.InvalidJobSpecException;
import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.job.JobEvent;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.coordinator.job.JobStatus;
import org.medfed.coordinator.job.JobTerms;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.model.ModelCatalog;
import org.medfed.coordinator.store.CheckpointStore;
import org.medfed.coordinator.store.JobStore;
import org.medfed.coordinator.store.StorageMonitor;
import org.medfed.coordinator.store.StorageProblem;
import org.medfed.coordinator.store.StorageUnwritableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts jobs, runs each on its own thread, and keeps them for the admin API. A job whose state
 * cannot be written pauses without a thread and runs again when the {@link StorageMonitor} finds
 * writes succeeding, or when an administrator resumes it. Thread-safe.
 */
public final class JobManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JobManager.class);
  private final Map<String, Job> jobs = new ConcurrentHashMap<>();
  private final ExecutorService runners = Executors.newCachedThreadPool(r -> {
    Thread thread = new Thread(r, "medfed-job");
    thread.setDaemon(true);
    return thread;
  });
  private final RoundServices services;
  private final JobStore store;
  private final StorageMonitor storage;
  private final List<Consumer<Job>> jobListeners = new CopyOnWriteArrayList<>();
  /** Jobs with a runner now; a job not terminal and not here is paused. */
  private final Set<String> active = ConcurrentHashMap.newKeySet();

  public JobManager(RoundServices services, JobStore store, StorageMonitor storage) {
    this.services = services;
    this.store = store;
    this.storage = storage;
    storage.onWritable(() -> resumePaused("storage takes writes again"));
  }

  /** Told of every job as it is submitted or loaded, before it starts (metrics follow jobs this way). */
  public void onJob(Consumer<Job> listener) {
    jobListeners.add(listener);
  }

  /**
   * Loads every job from the database: finished ones for the record, and each one that was pending
   * or running when the coordinator stopped is started again after its last counted round.
   *
   * @return the ids of the jobs that resumed
   */
  public List<String> resumeStored() {
    List<String> resumed = new ArrayList<>();
    for (JobStore.StoredJob stored : store.loadAll()) {
      JobSpec spec;
      try {
        spec = JobSpecParser.parse(stored.specJson());
        // Built to check that this release can still build it; a runner builds its own when it starts.
        ModelCatalog.initialModel(spec);
      } catch (InvalidJobSpecException e) {
        // One job this release cannot read must not keep the coordinator, and every other job, down.
        log.error("job {} is in the database but cannot be loaded: {}", stored.id(), e.getMessage());
        if (!stored.status().isTerminal()) {
          store.recorded(new JobEvent(stored.id(), services.clock().instant(), stored.currentRound(), "FAILED",
              "cannot resume after a restart: the stored job document is not valid for this coordinator ("
                  + e.getMessage() + ")", Map.of(), JobStatus.FAILED));
        }
        continue;
      }
      Job job = Job.restored(stored.id(), spec, stored.digest(), stored.submittedBy(), services.clock(), store,
          stored.status(), stored.message(), stored.rounds(), stored.events());
      jobs.put(job.id(), job);
      jobListeners.forEach(l -> l.accept(job));
      if (!stored.status().isTerminal()) {
        resumed.add(job.id());
        run(job, "coordinator restarted");
      }
    }
    return resumed;
  }

  /**
   * Validates the model against the spec, records the job and starts it.
   *
   * @throws InvalidJobSpecException if the model cannot be built for the spec
   */
  public Job submit(JobSpec spec, String submittedBy) {
    GlobalModel initial = ModelCatalog.initialModel(spec);
    String id = spec.name().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-")
        + "-" + UUID.randomUUID().toString().substring(0, 8);
    Job job = new Job(id, spec, JobTerms.digest(spec, initial), submittedBy, services.clock(), store);
    String specJson = JobSpecParser.toJson(spec);
    long needed = CheckpointStore.roomForRound(initial);
    try {
      store.insert(id, spec.name(), specJson, job.digest(), submittedBy, services.clock().instant());
    } catch (RuntimeException e) {
      throw storage.diagnose(e, needed).map(p -> (RuntimeException) new StorageUnwritableException(p, e)).orElse(e);
    }
    jobs.put(id, job);
    jobListeners.forEach(l -> l.accept(job));
    try {
      services.checkpoints().writeSpec(id, specJson);
      services.audit().append("JOB_SUBMITTED", Map.of("job", id, "name", spec.name(), "digest", job.digest(),
          "by", submittedBy, "dataset", spec.dataset(), "rounds", spec.rounds(),
          "secure_aggregation", spec.secureAggregation().enabled()));
      job.progress(0, "SUBMITTED", "job " + id + " accepted: " + spec + ", model with " + initial.parameterCount()
          + " parameters, digest " + job.digest() + " (hospitals approve this digest)", Map.of());
    } catch (RuntimeException e) {
      // Recorded, so it is the consortium's job now: it waits, paused, for the storage like a running one.
      Optional<StorageProblem> problem = storage.diagnose(e, needed);
      if (problem.isEmpty()) {
        throw e;
      }
      storage.report(problem.get());
      job.pausedForStorage(0, "accepted but paused before its start, the coordinator cannot write its state: "
          + problem.get().describe());
      return job;
    }
    run(job, "started");
    return job;
  }

  /**
   * Runs a paused or failed job again from its last checkpoint; a job that failed for its own
   * reason (too few hospitals, say) too, since an administrator decides that its cause is gone.
   *
   * @param by the administrator's certificate name, for the job's history
   */
  public Resumption resume(String id, String by) {
    Job job = jobs.get(id);
    if (job == null) {
      return new Resumption.Refused("no job with id '" + id + "'; list jobs to see the ids");
    }
    if (job.status() == JobStatus.SUCCEEDED || job.status() == JobStatus.CANCELLED) {
      return new Resumption.Refused("job '" + id + "' ended as " + job.status() + " and is not resumed;"
          + " submit the job document again for a new run");
    }
    if (active.contains(id)) {
      return new Resumption.Refused("job '" + id + "' is running (round " + (job.roundsCompleted() + 1) + "/"
          + job.spec().rounds() + "); there is nothing to resume");
    }
    Optional<StorageProblem> problem = storage.probeNow();
    if (problem.isPresent()) {
      return new Resumption.StorageUnwritable(problem.get());
    }
    synchronized (this) {
      Job current = jobs.get(id);
      String why = "resumed by " + by;
      if (current.status() == JobStatus.FAILED) {
        why += " after it failed (" + current.message() + ")";
        current = Job.reopened(current);
        jobs.put(id, current);
        Job reopened = current;
        jobListeners.forEach(l -> l.accept(reopened));
      }
      services.audit().append("JOB_RESUME_REQUESTED", Map.of("job", id, "by", by,
          "rounds_completed", current.roundsCompleted()));
      // False when the probe above already resumed it, with every other paused job: resumed either way.
      run(current, why);
      return new Resumption.Resumed(current);
    }
  }

  /**
   * Cancels a job; a paused one, which has no round to stop, ends here.
   *
   * @return false if the job had already ended
   */
  public boolean cancel(Job job, String reason) {
    if (!job.cancel(reason)) {
      return false;
    }
    services.nodes().signal();
    endIfCancelled(job);
    return true;
  }

  /** A cancelled job that no runner runs (it is paused) has no round to stop: it ends here. */
  private void endIfCancelled(Job job) {
    if (job.isCancelled() && !job.status().isTerminal() && active.add(job.id())) {
      try {
        job.cancelled(job.roundsCompleted() + 1, job.cancellation().getNow("cancelled"));
      } catch (RuntimeException e) {
        // Its runner, started when the storage takes writes again, sees the cancellation and ends it.
        log.warn("job {} is cancelled but its end cannot be stored yet: {}", job.id(), e.getMessage());
      } finally {
        active.remove(job.id());
      }
    }
  }

  /** Starts a runner for the job unless one runs it; when it pauses on storage, the monitor probes. */
  private boolean run(Job job, String why) {
    if (runners.isShutdown() || job.status().isTerminal() || !active.add(job.id())) {
      return false;
    }
    // Not kept per job: a model per job, finished ones too, for as long as the coordinator runs.
    JobRunner runner = new JobRunner(job, () -> ModelCatalog.initialModel(job.spec()), services, storage, why);
    try {
      runners.execute(() -> {
        try {
          runner.run();
        } finally {
          active.remove(job.id());
          // A cancel or a successful probe while this runner was winding down found it busy: act now.
          if (runner.pausedOn().isPresent()) {
            endIfCancelled(job);
            if (storage.problem().isEmpty()) {
              run(job, "storage takes writes again");
            }
          }
        }
      });
    } catch (RuntimeException e) {
      active.remove(job.id());
      throw e;
    }
    return true;
  }

  /** Every job that is neither ended nor running goes on from its last checkpoint. */
  private void resumePaused(String why) {
    for (Job job : jobs.values()) {
      if (!job.status().isTerminal() && !active.contains(job.id())) {
        run(job, why);
      }
    }
  }

  public Optional<Job> find(String id) {
    return Optional.ofNullable(jobs.get(id));
  }

  public List<Job> list() {
    Collection<Job> all = jobs.values();
    return all.stream().sorted(Comparator.comparing(Job::id)).toList();
  }

  /**
   * Stops the running jobs without ending them: each stays running in the database and resumes
   * when the coordinator starts again, as after a crash (a restart for an upgrade loses nothing).
   */
  @Override
  public void close() {
    runners.shutdownNow();
    services.nodes().signal();
    try {
      runners.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
