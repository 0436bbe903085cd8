package org.medfed.coordinator.round;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
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
import org.medfed.coordinator.store.JobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Accepts jobs, runs each on its own thread, and keeps them for the admin API. Thread-safe. */
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
  private final List<Consumer<Job>> jobListeners = new CopyOnWriteArrayList<>();

  public JobManager(RoundServices services, JobStore store) {
    this.services = services;
    this.store = store;
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
      GlobalModel initial;
      try {
        spec = JobSpecParser.parse(stored.specJson());
        initial = ModelCatalog.initialModel(spec);
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
        runners.execute(new JobRunner(job, initial, services));
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
    store.insert(id, spec.name(), specJson, job.digest(), submittedBy, services.clock().instant());
    jobs.put(id, job);
    services.checkpoints().writeSpec(id, specJson);
    services.audit().append("JOB_SUBMITTED", Map.of("job", id, "name", spec.name(), "digest", job.digest(),
        "by", submittedBy, "dataset", spec.dataset(), "rounds", spec.rounds(),
        "secure_aggregation", spec.secureAggregation().enabled()));
    job.progress(0, "SUBMITTED", "job " + id + " accepted: " + spec + ", model with " + initial.parameterCount()
        + " parameters, digest " + job.digest() + " (hospitals approve this digest)", Map.of());
    jobListeners.forEach(l -> l.accept(job));
    runners.execute(new JobRunner(job, initial, services));
    return job;
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
