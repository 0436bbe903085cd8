package org.medfed.nodeagent.session;

import com.google.protobuf.ByteString;
import io.grpc.Deadline;
import io.grpc.StatusRuntimeException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.medfed.nodeagent.approval.JobGate;
import org.medfed.nodeagent.baseline.LocalBaselines;
import org.medfed.nodeagent.data.ConsortiumScaling;
import org.medfed.nodeagent.data.FeatureAlignment;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.data.MissingFeatures;
import org.medfed.nodeagent.privacy.HospitalPrivacy;
import org.medfed.nodeagent.privacy.PrivacyBudget;
import org.medfed.nodeagent.privacy.PrivacyLedger;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.ControlVariateStore;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.nodeagent.training.ScaffoldClient;
import org.medfed.nodeagent.training.TrainingPlan;
import org.medfed.proto.v1.AgentMessage;
import org.medfed.proto.v1.CoordinatorMessage;
import org.medfed.proto.v1.EvaluateTask;
import org.medfed.proto.v1.EvaluationResult;
import org.medfed.proto.v1.FeatureStatisticsPass;
import org.medfed.proto.v1.SecAggSetup;
import org.medfed.proto.v1.SecAggShare;
import org.medfed.proto.v1.SecAggShares;
import org.medfed.proto.v1.SecAggSurvivorSignature;
import org.medfed.proto.v1.SecAggUnmaskResponse;
import org.medfed.proto.v1.TaskDeclined;
import org.medfed.proto.v1.TaskFailed;
import org.medfed.proto.v1.TaskTensor;
import org.medfed.proto.v1.TrainTask;
import org.medfed.secagg.SecAggException;
import org.medfed.secagg.crypto.Shamir;
import org.medfed.secagg.protocol.MaskingGraph;
import org.medfed.secagg.protocol.Messages;
import org.medfed.secagg.protocol.SecAggClient;
import org.medfed.secagg.protocol.SecAggConfig;
import org.medfed.secagg.quant.Quantizer;
import org.medfed.telemetry.StepCpu;
import org.medfed.wire.Digests;
import org.medfed.wire.FeatureStatistics;
import org.medfed.wire.SecAggInstance;
import org.medfed.wire.Tensors;
import org.medfed.wire.UpdateLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the coordinator's tasks at the hospital, on the worker pool the agent gives it: checks that the task fits a local
 * dataset (declining with a reason otherwise), fetches the model, trains or evaluates, and returns
 * the result. The update sent back is the difference between local and global weights.
 */
final class TaskRunner {
  private static final Logger log = LoggerFactory.getLogger(TaskRunner.class);

  private final String nodeId;
  private final Map<String, LocalDataset> datasets;
  private final LocalTrainer trainer;
  private final Transfers transfers;
  private final Consumer<AgentMessage> send;
  private final ExecutorService worker;
  private final Map<String, CancellationToken> running = new ConcurrentHashMap<>();
  private final Map<String, TaskMailbox> mailboxes = new ConcurrentHashMap<>();
  /** Tasks this agent declined or reported failed, so the metrics count them apart from completed ones. */
  private final Set<String> declined = ConcurrentHashMap.newKeySet();
  private final Set<String> failed = ConcurrentHashMap.newKeySet();
  private final AgentMetrics metrics;
  private final PrivacyLedger ledger;
  private final Map<String, PrivacyBudget> budgets;
  private final JobGate gate;
  private final SignedRoundKeys roundKeys;
  private final LocalBaselines baselines;
  private final ControlVariateStore controls;
  private final Map<String, MissingFeatures> missingFeatures;
  /** Datasets aligned to a job's feature ids, by dataset and ids: aligned once, not every round. */
  private final Map<String, FeatureAlignment.Result> aligned = new ConcurrentHashMap<>();
  /** Datasets scaled with a consortium_zscore job's statistics, by job and dataset. */
  private final Map<String, ScaledDataset> scaled = new ConcurrentHashMap<>();
  private final SecureRandom secureRandom = new SecureRandom();
  /**
   * Local training of a secure task runs here while its worker thread does the key exchange; one
   * thread per secure task running, so never more than the worker pool's size.
   */
  private final ExecutorService trainers = Executors.newCachedThreadPool(NodeAgent.daemon("medfed-agent-trainer"));

  TaskRunner(String nodeId, Map<String, LocalDataset> datasets, LocalTrainer trainer, Transfers transfers,
      Consumer<AgentMessage> send, ExecutorService worker, JobGate gate, Map<String, MissingFeatures> missingFeatures,
      AgentMetrics metrics, SignedRoundKeys roundKeys, PrivacyLedger ledger, Map<String, PrivacyBudget> budgets,
      ControlVariateStore controls, LocalBaselines baselines) {
    this.nodeId = nodeId;
    this.baselines = baselines;
    this.controls = controls;
    this.ledger = ledger;
    this.budgets = Map.copyOf(budgets);
    this.roundKeys = roundKeys;
    this.metrics = metrics;
    this.gate = gate;
    this.missingFeatures = Map.copyOf(missingFeatures);
    this.datasets = datasets;
    this.trainer = trainer;
    this.transfers = transfers;
    this.send = send;
    this.worker = worker;
  }

  void train(TrainTask task) {
    if (task.hasSecureAggregation()) {
      // Created before the task runs: the coordinator's first reply may arrive before the worker starts.
      mailboxes.put(task.getTaskId(), new TaskMailbox());
    }
    submit(task.getTaskId(), "train", token -> runTraining(task, token));
  }

  /** Routes a secure-aggregation message to the task it belongs to; stale ones are dropped. */
  void deliver(String taskId, CoordinatorMessage message) {
    TaskMailbox mailbox = mailboxes.get(taskId);
    if (mailbox != null) {
      mailbox.deliver(message);
    } else {
      log.debug("ignoring {} for task {}, which is not running", message.getBodyCase(), taskId);
    }
  }

  void evaluate(EvaluateTask task) {
    submit(task.getTaskId(), "evaluate", token -> runEvaluation(task, token));
  }

  void cancel(String taskId, String reason) {
    CancellationToken token = running.get(taskId);
    if (token != null) {
      log.info("task {} cancelled by the coordinator: {}", taskId, reason);
      token.cancel(reason);
    }
  }

  void cancelAll(String reason) {
    running.values().forEach(token -> token.cancel(reason));
  }

  void shutdown() {
    cancelAll("agent shutting down");
    worker.shutdownNow();
    trainers.shutdownNow();
  }

  private void submit(String taskId, String kind, Consumer<CancellationToken> body) {
    CancellationToken token = new CancellationToken();
    running.put(taskId, token);
    try {
      worker.execute(() -> {
        long started = System.nanoTime();
        String outcome = "failed";
        try {
          token.throwIfCancelled();
          body.accept(token);
          outcome = declined.remove(taskId) ? "declined" : failed.contains(taskId) ? "failed" : "completed";
        } catch (CancellationToken.CancelledException e) {
          outcome = "cancelled";
          log.info("task {} stopped: {}", taskId, e.getMessage());
        } catch (StatusRuntimeException e) {
          log.error("task {}: the coordinator answered {}: {}", taskId, e.getStatus().getCode(),
              e.getStatus().getDescription());
          fail(taskId, "coordinator answered " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
        } catch (RuntimeException e) {
          log.error("task {} failed: {}", taskId, e.toString(), e);
          fail(taskId, e.getClass().getSimpleName() + ": " + e.getMessage());
        } finally {
          failed.remove(taskId);
          running.remove(taskId);
          mailboxes.remove(taskId);
          metrics.task(kind, outcome, Duration.ofNanos(System.nanoTime() - started));
        }
      });
    } catch (RejectedExecutionException e) {
      running.remove(taskId);
    }
  }

  private void runTraining(TrainTask task, CancellationToken token) {
    Optional<String> refusal = gate.refusal(task);
    if (refusal.isPresent()) {
      decline(task.getTaskId(), refusal.get());
      return;
    }
    // Each round shuffles its own way; the job's seed alone would replay round 1's minibatch order every round.
    TrainingPlan plan = Descriptors.fromProto(task.getPlan()).forRound(task.getRound());
    boolean statistics = task.getStatistics() != FeatureStatisticsPass.FEATURE_STATISTICS_NONE;
    UpdateLayout layout;
    try {
      layout = FeatureStatistics.layout(task.getStatistics(), task.getPlan());
    } catch (IllegalArgumentException e) {
      decline(task.getTaskId(), "node '" + nodeId + "' cannot send feature statistics for this job: " + e.getMessage());
      return;
    }
    Optional<String> unknown = layout.extraVectors().stream().filter(v -> !v.equals(UpdateLayout.CONTROL_DELTA))
        .findFirst();
    if (unknown.isPresent()) {
      decline(task.getTaskId(), "node '" + nodeId + "' cannot compute the update vector '" + unknown.get()
          + "' the job asks for; this agent knows " + UpdateLayout.CONTROL_DELTA + " (SCAFFOLD); upgrade it");
      return;
    }
    Prepared prepared = prepare(task.getDataset(), task.getPlan().getFeatureNamesList(), plan);
    if (prepared.problem().isPresent()) {
      decline(task.getTaskId(), prepared.problem().get());
      return;
    }
    LocalDataset dataset = prepared.dataset();
    if (statistics) {
      // No model, no DP-SGD (the coordinator refuses consortium z-scores with it), no baseline.
      trainFederated(task, plan, layout, dataset, token);
      return;
    }
    if (task.getPlan().getConsortiumZscore()) {
      dataset = scaledForJob(task.getJobId(), dataset, task.getTensorsList(), deadline(task.getDeadlineUnixMillis()));
    }
    Optional<HospitalPrivacy> privacy;
    try {
      privacy = HospitalPrivacy.of(task.getPrivacy(), plan, dataset.trainSamples());
    } catch (IllegalArgumentException e) {
      decline(task.getTaskId(), "node '" + nodeId + "' cannot run this job's DP-SGD on dataset '" + dataset.name()
          + "': " + e.getMessage());
      return;
    }
    PrivacyBudget budget = budgets.get(dataset.name());
    if (budget != null) {
      Optional<String> overspend = ledger.refusal(dataset.name(), budget, privacy.map(HospitalPrivacy::perRound),
          Instant.now());
      if (overspend.isPresent()) {
        decline(task.getTaskId(), "node '" + nodeId + "': " + overspend.get());
        return;
      }
    }
    if (privacy.isPresent() && task.getPlan().getLocalBaseline()) {
      decline(task.getTaskId(), "node '" + nodeId + "' will not train a local-only baseline under DP-SGD: its"
          + " metrics would spend dataset '" + dataset.name() + "''s privacy budget a second time");
      return;
    }
    if (privacy.isPresent()) {
      plan = plan.withDpSgd(privacy.get().settings());
      log.info("job {} round {}: DP-SGD with clip {}, noise multiplier {} ({}), {} steps at sample rate {}",
          task.getJobId(), task.getRound(), privacy.get().settings().clipNorm(),
          privacy.get().settings().noiseMultiplier(), privacy.get().derived(), privacy.get().settings().stepsPerRound(),
          privacy.get().settings().sampleRate());
    }
    if (!task.getPlan().getLocalBaseline()) {
      trainFederated(task, plan, layout, dataset, token);
      return;
    }
    try (LocalBaselines.Ticket baseline = baselines.expect(task.getJobId(), dataset.name())) {
      float[] global = trainFederated(task, plan, layout, dataset, token);
      if (global != null && !failed.contains(task.getTaskId()) && !declined.contains(task.getTaskId())) {
        // After the update left: the local-only model costs the round's critical path nothing.
        trainBaseline(baseline, task, plan, global, dataset, token);
      }
    }
  }

  private void trainBaseline(LocalBaselines.Ticket baseline, TrainTask task, TrainingPlan plan, float[] global,
      LocalDataset dataset, CancellationToken token) {
    try {
      long started = System.nanoTime();
      LocalBaselines.Stored stored = baseline.train(task.getRound(), plan, () -> global, dataset, token);
      log.info("job {} round {}: local-only baseline trained ({} rounds since round {}) in {} ms", task.getJobId(),
          task.getRound(), stored.roundsTrained(), stored.firstRound(), (System.nanoTime() - started) / 1_000_000);
    } catch (CancellationToken.CancelledException e) {
      throw e;
    } catch (RuntimeException e) {
      // The federated update has already gone; only the comparison is lost, and the log says why.
      log.error("job {} round {}: the local-only baseline could not train, so this hospital's evaluations will lack"
          + " local_* metrics: {}", task.getJobId(), task.getRound(), e.getMessage(), e);
    }
  }

  /** The federated part of a round; returns the global model it trained from, or null if it sent nothing. */
  private float[] trainFederated(TrainTask task, TrainingPlan plan, UpdateLayout layout, LocalDataset dataset,
      CancellationToken token) {
    Deadline deadline = deadline(task.getDeadlineUnixMillis());
    if (task.hasSecureAggregation()) {
      SecureTrainingClient client = new SecureTrainingClient(task, plan, layout, dataset, token, deadline);
      client.run();
      return client.global;
    }
    StepCpu<RoundStep> cpu = new StepCpu<>(RoundStep.class);
    LocalUpdate update = trainUpdate(task, plan, layout, dataset, token, deadline, cpu);
    token.throwIfCancelled();
    var receipt = transfers.upload(task.getTaskId(), Tensors.toBytes(layout.join(update.vectors())),
        update.numSamples(), update.metrics(), deadline);
    // Accepted: the coordinator holds this round's control-variate change, so the hospital moves on too.
    update.keep().run();
    log.info("job {} round {}: update digest={} uploaded", task.getJobId(), task.getRound(),
        Digests.shortHex(receipt.getPayloadDigest().toByteArray()));
    logCpu(task, false, cpu);
    return update.global();
  }

  /**
   * One round's update, as the vectors of the plan's layout, and what the hospital keeps once the
   * coordinator holds them (SCAFFOLD's next control variate; nothing otherwise).
   */
  private record LocalUpdate(Map<String, float[]> vectors, long numSamples, Map<String, Double> metrics,
      Runnable keep, float[] global) {}

  /**
   * Fetches the model and trains from it. For SCAFFOLD (the plan asks for control_delta) it also
   * fetches the server control variate c, corrects every local step by c − c_i with this hospital's
   * c_i (that of the last earlier round it took part in, so a redone round ignores what its failed
   * attempt kept), and computes Δc_i (Karimireddy et al. 2020, option II); c_i+ is kept only once
   * the update is in the coordinator's hands.
   */
  private LocalUpdate trainUpdate(TrainTask task, TrainingPlan plan, UpdateLayout layout, LocalDataset dataset,
      CancellationToken token, Deadline deadline, StepCpu<RoundStep> cpu) {
    if (task.getStatistics() != FeatureStatisticsPass.FEATURE_STATISTICS_NONE) {
      return statisticsUpdate(task, dataset, deadline);
    }
    float[] global = fetchModel(task.getModelId(), plan, deadline);
    token.throwIfCancelled();
    Map<String, float[]> vectors = new LinkedHashMap<>();
    if (!layout.extraVectors().contains(UpdateLayout.CONTROL_DELTA)) {
      LocalTrainer.Trained trained = trainLocally(task, plan, global, Optional.empty(), dataset, token, cpu);
      vectors.put(UpdateLayout.DELTA, delta(trained, global));
      return new LocalUpdate(vectors, trained.numSamples(), trained.metrics(), () -> { }, global);
    }
    float[] serverControl = fetchTensor(task.getTensorsList(), task.getJobId(), task.getRound(),
        UpdateLayout.SERVER_CONTROL, global.length, deadline);
    ControlVariateStore.Stored own = controls.before(task.getJobId(), task.getRound(), global.length);
    LocalTrainer.Trained trained = trainLocally(task, plan, global,
        Optional.of(ScaffoldClient.correction(serverControl, own.values())), dataset, token, cpu);
    ScaffoldClient.Next next = ScaffoldClient.next(global, localParameters(trained, global), serverControl,
        own.values(), trained.steps(), plan.learningRate());
    vectors.put(UpdateLayout.DELTA, delta(trained, global));
    vectors.put(UpdateLayout.CONTROL_DELTA, next.controlDelta());
    log.info("job {} round {}: SCAFFOLD correction from control variate of round {} over {} local steps",
        task.getJobId(), task.getRound(), own.round(), trained.steps());
    return new LocalUpdate(vectors, trained.numSamples(), trained.metrics(),
        () -> controls.save(task.getJobId(), task.getRound(), next.clientControl()), global);
  }

  /**
   * A feature-statistics pass's contribution, sent as an update is ({@link FeatureStatistics}). Pass 1
   * weighs every hospital alike (w = 1 under secure aggregation, one "sample" in the clear); pass 2
   * weighs each by its training samples, so that the means are the pooled ones.
   */
  private LocalUpdate statisticsUpdate(TrainTask task, LocalDataset dataset, Deadline deadline) {
    FeatureStatistics.Moments own = ConsortiumScaling.moments(dataset);
    float[] values;
    long weight;
    if (task.getStatistics() == FeatureStatisticsPass.FEATURE_MAGNITUDE) {
      values = FeatureStatistics.magnitudes(own);
      weight = task.hasSecureAggregation() ? task.getSecureAggregation().getMaxSamplesPerNode() : 1;
    } else {
      float[] units = fetchTensor(task.getTensorsList(), task.getJobId(), task.getRound(), FeatureStatistics.UNIT,
          own.features(), deadline);
      values = FeatureStatistics.moments(own, units);
      weight = own.samples();
    }
    log.info("job {} round {}: feature statistics ({}) of {} features over {} training samples", task.getJobId(),
        task.getRound(), task.getStatistics(), own.features(), own.samples());
    Map<String, float[]> vectors = new LinkedHashMap<>();
    vectors.put(UpdateLayout.DELTA, values);
    return new LocalUpdate(vectors, weight, Map.of(), () -> { }, null);
  }

  /**
   * The dataset scaled with the consortium's statistics the task carries, scaled once per job and
   * scaling: every round of a job brings the same tensors.
   */
  private LocalDataset scaledForJob(String jobId, LocalDataset dataset, List<TaskTensor> tensors, Deadline deadline) {
    int features = (int) dataset.inputShape()[0];
    float[] mean = fetchTensor(tensors, jobId, 0, FeatureStatistics.MEAN, features, deadline);
    float[] scale = fetchTensor(tensors, jobId, 0, FeatureStatistics.SCALE, features, deadline);
    String digest = Digests.shortHex(Digests.sha256(Tensors.toBytes(mean))) + "/"
        + Digests.shortHex(Digests.sha256(Tensors.toBytes(scale)));
    String key = jobId + "\n" + dataset.name();
    ScaledDataset cached = scaled.get(key);
    if (cached != null && cached.digest().equals(digest)) {
      return cached.dataset();
    }
    LocalDataset result = ConsortiumScaling.apply(dataset, new FeatureStatistics.Scaling(mean, scale));
    scaled.put(key, new ScaledDataset(digest, result));
    log.info("job {}: dataset '{}' z-scored with the consortium's feature statistics ({})", jobId, dataset.name(),
        digest);
    return result;
  }

  private record ScaledDataset(String digest, LocalDataset dataset) {}

  private static float[] delta(LocalTrainer.Trained trained, float[] global) {
    float[] delta = localParameters(trained, global);
    for (int i = 0; i < delta.length; i++) {
      delta[i] -= global[i];
    }
    return delta;
  }

  /**
   * Local training on the calling thread, logged with its wall and CPU time and charged to the
   * round's {@link RoundStep#TRAINING}. With OMP_NUM_THREADS=1 (the agent's Docker image) DL4J does
   * its math on the calling thread, so the thread's CPU time is the training's and wall time beyond
   * it is time spent waiting for a core; with more OpenMP threads (bin/medfed-agent defaults to 2)
   * the figure covers this thread's share only.
   */
  private LocalTrainer.Trained trainLocally(TrainTask task, TrainingPlan plan, float[] global,
      Optional<float[]> correction, LocalDataset dataset, CancellationToken token, StepCpu<RoundStep> cpu) {
    long wallStart = System.nanoTime();
    long cpuStart = cpu.nanos(RoundStep.TRAINING);
    LocalTrainer.Trained trained = cpu.time(RoundStep.TRAINING, () -> correction.isPresent()
        ? trainer.train(plan, global, correction.get(), dataset, token)
        : trainer.train(plan, global, dataset, token));
    // Recorded durably before anything of this round leaves the hospital: a crash can only over-count.
    plan.dpSgd().ifPresent(dp -> ledger.charge(new PrivacyLedger.Charge(dataset.name(), task.getJobId(),
        task.getRound(), dp.sampleRate(), dp.noiseMultiplier(), dp.stepsPerRound(), System.currentTimeMillis())));
    log.info("job {} round {}: trained on {} samples in {} ms ({} ms CPU)", task.getJobId(), task.getRound(),
        trained.numSamples(), (System.nanoTime() - wallStart) / 1_000_000,
        (cpu.nanos(RoundStep.TRAINING) - cpuStart) / 1_000_000);
    return trained;
  }

  /**
   * One line per completed training round with its CPU time by {@link RoundStep}, summed over the
   * threads that did each step. It stays in the hospital's log and is not reported to the
   * coordinator: training CPU grows with the local sample count, which a secure round hides inside
   * the masked vector (docs/benchmarks.md). bench/secure-round-bench.sh reads these lines.
   */
  private static void logCpu(TrainTask task, boolean secure, StepCpu<RoundStep> cpu) {
    log.info("round CPU: job={} round={} secure={} protocol_us={} {}", task.getJobId(), task.getRound(), secure,
        cpu.nanos(RoundStep.PROTOCOL) / 1_000, cpu.fields());
  }

  /**
   * The client role of secure aggregation around local training: keys and shares while the model
   * trains, then the masked vector laid out by {@link UpdateLayout}, [w, w * delta, w * extra..., w * loss]
   * (w = samples / max_samples_per_node), through the chunked upload, then the unmasking shares. The
   * update, the sample count and the loss leave the hospital only inside the masked vector.
   */
  private final class SecureTrainingClient {
    private final TrainTask task;
    private final TrainingPlan plan;
    private final UpdateLayout layout;
    private final LocalDataset dataset;
    private final CancellationToken token;
    private final Deadline deadline;
    private final TaskMailbox mailbox;
    private final StepCpu<RoundStep> cpu = new StepCpu<>(RoundStep.class);
    /** The round's global model, once fetched: the start of a local-only baseline. */
    private volatile float[] global;

    SecureTrainingClient(TrainTask task, TrainingPlan plan, UpdateLayout layout, LocalDataset dataset,
        CancellationToken token, Deadline deadline) {
      this.task = task;
      this.plan = plan;
      this.layout = layout;
      this.dataset = dataset;
      this.token = token;
      this.deadline = deadline;
      this.mailbox = mailboxes.get(task.getTaskId());
    }

    void run() {
      SecAggSetup setup = task.getSecureAggregation();
      Integer self = setup.getParticipantIdsMap().get(nodeId);
      if (self == null) {
        decline(task.getTaskId(), "node '" + nodeId + "' is not among the secure-aggregation participants "
            + setup.getParticipantIdsMap().keySet());
        return;
      }
      if (dataset.trainSamples() > setup.getMaxSamplesPerNode()) {
        decline(task.getTaskId(), "dataset '" + dataset.name() + "' has " + dataset.trainSamples()
            + " training samples, more than the job's secure_aggregation.max_samples_per_node ("
            + setup.getMaxSamplesPerNode() + "); ask the consortium to raise it");
        return;
      }
      if (setup.getVectorLength() != layout.maskedLength()) {
        throw new IllegalStateException("secure-aggregation vector length " + setup.getVectorLength()
            + " does not fit the update " + layout + " (" + layout.maskedLength() + " values)");
      }
      Optional<String> unsafe = unsafeSetup(setup);
      if (unsafe.isPresent()) {
        decline(task.getTaskId(), unsafe.get());
        return;
      }
      MaskingGraph graph = SignedRoundKeys.graph(setup);
      // Each hospital derives the graph from the setup itself, and checks t against its own neighbourhood.
      if (setup.getThreshold() < SecAggConfig.majority(graph.minimumNeighbourhood())
          || setup.getThreshold() > graph.minimumNeighbourhood()) {
        decline(task.getTaskId(), "the secure-aggregation threshold " + setup.getThreshold() + " is not a majority of"
            + " a neighbourhood of " + graph.minimumNeighbourhood() + " in " + graph + " (at least "
            + SecAggConfig.majority(graph.minimumNeighbourhood()) + "); a lower one would let the coordinator unmask"
            + " single updates");
        return;
      }
      SignedRoundKeys.Round identities = roundKeys.round(setup, graph);
      SecAggClient client = new SecAggClient(new SecAggConfig(identities.instance(),
          graph, setup.getThreshold(), setup.getVectorLength()), self, secureRandom, identities);
      try {
        cpu.run(RoundStep.ADVERTISE_KEYS, () -> {
          Messages.AdvertiseKeys keys = client.advertiseKeys();
          send.accept(AgentMessage.newBuilder().setSecaggKeys(roundKeys.message(task.getTaskId(), keys,
              identities.instance(), nodeId)).build());
        });

        // Train while the key exchange runs: the exchange then costs no time on the critical path.
        CompletableFuture<Quantized> training = CompletableFuture.supplyAsync(() -> trainAndQuantize(setup), trainers);
        var directory = mailbox.await(CoordinatorMessage.BodyCase.SECAGG_DIRECTORY, deadline, token).getSecaggDirectory();
        cpu.run(RoundStep.SHARE_KEYS, () -> {
          Messages.ShareKeys shares = client.shareKeys(identities.verified(directory.getKeysList(), self));
          SecAggShares.Builder sharesMessage = SecAggShares.newBuilder().setTaskId(task.getTaskId())
              .setSelfMaskCommitment(ByteString.copyFrom(shares.selfMaskCommitment()));
          // The sender is this session's node: each share names its recipient only.
          shares.shares().forEach(s -> sharesMessage.addShares(SecAggShare.newBuilder().setTo(s.to())
              .setCiphertext(ByteString.copyFrom(s.ciphertext()))));
          send.accept(AgentMessage.newBuilder().setSecaggShares(sharesMessage).build());
        });
        // The mask depends only on this round's keys: expand it while the model is still training.
        cpu.run(RoundStep.MASK_EXPANSION, client::prepareMask);

        Quantized quantized = joinTraining(training);
        // From here on each model-sized array is let go as soon as it is used: an agent waits for its
        // upload's turn and then for every other upload, and bench/simulate.sh runs 1000 agents in one
        // JVM, where a quantized update, a mask and the encoded words kept by each (12 MB for a 1M
        // model) would be 12 GB.
        training = null;
        Runnable keep = quantized.keep();
        long trained = System.nanoTime();
        var inbox = mailbox.await(CoordinatorMessage.BodyCase.SECAGG_INBOX, deadline, token).getSecaggInbox();
        long inboxed = System.nanoTime();
        byte[] words = maskedWords(client, self, inbox.getSharesList(), quantized.vector());
        quantized = null;
        long maskedAt = System.nanoTime();
        transfers.upload(task.getTaskId(), words, 0, Map.of(), deadline);
        words = null;
        long uploaded = System.nanoTime();

        // The consistency check: sign the survivor set as shown, and reveal shares only for that set.
        var shown = mailbox.await(CoordinatorMessage.BodyCase.SECAGG_SURVIVORS, deadline, token).getSecaggSurvivors();
        cpu.run(RoundStep.CONSISTENCY_CHECK, () -> {
          Messages.SurvivorSignature signed = client.consistencyCheck(new Messages.SurvivorSet(self,
              shown.getSurvivorsList()));
          send.accept(AgentMessage.newBuilder().setSecaggSurvivorSignature(SecAggSurvivorSignature.newBuilder()
              .setTaskId(task.getTaskId()).setSignature(ByteString.copyFrom(signed.signature()))).build());
        });
        long signedAt = System.nanoTime();

        var request = mailbox.await(CoordinatorMessage.BodyCase.SECAGG_UNMASK_REQUEST, deadline, token)
            .getSecaggUnmaskRequest();
        if (request.getSurvivorsList().contains(self)) {
          // This hospital's vector is in the sum: keep its next control variate before helping unmask it.
          keep.run();
        }
        cpu.run(RoundStep.UNMASK, () -> {
          Messages.UnmaskResponse response = client.unmask(new Messages.UnmaskRequest(self,
              request.getSurvivorsList(), request.getDropoutsList(), request.getSignaturesList().stream()
                  .map(s -> new Messages.SurvivorSignature(s.getId(), s.getSignature().toByteArray())).toList()));
          // Packed at their fixed width, in the order the request lists their owners (protocol 4).
          SecAggUnmaskResponse.Builder answer = SecAggUnmaskResponse.newBuilder().setTaskId(task.getTaskId())
              .setSelfMaskShares(packed(request.getSurvivorsList(), response.selfMaskShares()))
              .setKeyShares(packed(request.getDropoutsList(), response.keyShares()));
          send.accept(AgentMessage.newBuilder().setSecaggUnmask(answer).build());
        });
        log.info("job {} round {}: masked update sent and unmasking shares revealed for {} survivors, {} dropouts"
            + " (waited {} ms for shares, masked in {} ms, uploaded in {} ms, survivor set shown and signed after {} ms,"
            + " unmask request checked after {} more ms, {} signatures)",
            task.getJobId(), task.getRound(), request.getSurvivorsCount(), request.getDropoutsCount(),
            (inboxed - trained) / 1_000_000, (maskedAt - inboxed) / 1_000_000, (uploaded - maskedAt) / 1_000_000,
            (signedAt - uploaded) / 1_000_000, (System.nanoTime() - signedAt) / 1_000_000, request.getSignaturesCount());
        logCpu(task, true, cpu);
      } catch (SecAggException e) {
        log.error("job {} round {}: {}", task.getJobId(), task.getRound(), e.getMessage());
        token.cancel(e.getMessage());  // stops the local training running beside the exchange
        fail(task.getTaskId(), e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CancellationToken.CancelledException("interrupted");
      } catch (RuntimeException e) {
        token.cancel(String.valueOf(e.getMessage()));  // a stage that failed stops the training beside it too
        throw e;
      }
    }

    /** Masks the quantized update and encodes it for the upload; the mask is dropped on return. */
    private byte[] maskedWords(SecAggClient client, int self, List<SecAggShare> received, int[] input) {
      Messages.MaskedInput masked = cpu.time(RoundStep.MASKING, () -> client.maskedInput(received.stream()
          .map(s -> new Messages.EncryptedShare(s.getFrom(), self, s.getCiphertext().toByteArray())).toList(),
          input));
      // Not charged to the protocol: a plaintext round serialises its update for the upload too.
      return masked.toLittleEndian();
    }

    /** The shares of {@code owners}, in that order, each at its fixed width. */
    private static ByteString packed(List<Integer> owners, Map<Integer, byte[]> shares) {
      byte[] out = new byte[owners.size() * Shamir.SHARE_BYTES];
      for (int i = 0; i < owners.size(); i++) {
        System.arraycopy(shares.get(owners.get(i)), 0, out, i * Shamir.SHARE_BYTES, Shamir.SHARE_BYTES);
      }
      return ByteString.copyFrom(out);
    }

    /**
     * Why the setup cannot be used, if it cannot: under SecAgg+ the graph seed must be the one drawn
     * from the setup's fresh context, so the coordinator cannot pick a graph of its choosing.
     */
    private Optional<String> unsafeSetup(SecAggSetup setup) {
      if (setup.getNeighbours() != 0 && setup.getGraphSeed() != SecAggInstance.graphSeed(
          setup.getContext().toByteArray())) {
        return Optional.of("the SecAgg+ graph seed " + setup.getGraphSeed() + " is not the one drawn from the round's"
            + " context (" + SecAggInstance.graphSeed(setup.getContext().toByteArray()) + "); the coordinator must"
            + " not choose the masking graph");
      }
      return Optional.empty();
    }

    private Quantized joinTraining(CompletableFuture<Quantized> training) throws InterruptedException {
      try {
        return training.get(Math.max(1, deadline.timeRemaining(TimeUnit.MILLISECONDS)), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RuntimeException runtime) {
          throw runtime;
        }
        throw new IllegalStateException("local training failed: " + e.getCause(), e.getCause());
      } catch (TimeoutException e) {
        token.cancel("task deadline passed");
        throw new IllegalStateException("local training did not finish before the task deadline");
      }
    }

    /** The masked vector's plaintext, and what the hospital keeps once it is in the sum. */
    private record Quantized(int[] vector, Runnable keep) {}

    private Quantized trainAndQuantize(SecAggSetup setup) {
      LocalUpdate update = trainUpdate(task, plan, layout, dataset, token, deadline, cpu);
      if (task.getPlan().getLocalBaseline()) {
        this.global = update.global();
      }
      token.throwIfCancelled();
      return cpu.time(RoundStep.QUANTIZATION, () -> quantize(update, setup));
    }

    /** [w, w * each vector..., w * loss], quantized; w = samples / max_samples_per_node. */
    private Quantized quantize(LocalUpdate update, SecAggSetup setup) {
      double weight = (double) update.numSamples() / setup.getMaxSamplesPerNode();
      float loss = (float) (weight * update.metrics().getOrDefault("train_loss", 0.0));
      if (!Float.isFinite(loss)) {
        throw new IllegalStateException("local training produced a non-finite training loss; nothing was sent"
            + " (lower the learning rate)");
      }
      // The rounding dither must be unbiased, not secret (the masks hide the values): a SecureRandom
      // draw per parameter would cost seconds for a large model.
      Quantizer quantizer = new Quantizer(setup.getClip(), setup.getBits());
      SplittableRandom dither = new SplittableRandom(secureRandom.nextLong());
      int[] vector = new int[layout.maskedLength()];
      quantizer.quantize(new float[] {(float) weight}, vector, layout.maskedWeightIndex(), dither);
      for (Map.Entry<String, float[]> named : update.vectors().entrySet()) {
        // Weighted in place: one model-sized array fewer per vector and round.
        float[] values = named.getValue();
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) (weight * values[i]);
        }
        int bad = Tensors.firstNonFinite(values);
        if (bad >= 0) {
          throw new IllegalStateException("local training produced a non-finite " + named.getKey() + " at parameter "
              + bad + "; nothing was sent (lower the learning rate)");
        }
        quantizer.quantize(values, vector, layout.maskedOffset(named.getKey()), dither);
      }
      quantizer.quantize(new float[] {loss}, vector, layout.maskedLossIndex(), dither);
      return new Quantized(vector, update.keep());
    }
  }

  /** The trained parameters, checked to fit the model they were trained from. */
  private static float[] localParameters(LocalTrainer.Trained trained, float[] global) {
    float[] local = trained.parameters();
    if (local.length != global.length) {
      throw new IllegalStateException("trainer returned " + local.length + " parameters for a model of " + global.length);
    }
    return local;
  }

  private void runEvaluation(EvaluateTask task, CancellationToken token) {
    Optional<String> refusal = gate.refusal(task.getJobId(), task.getRound(), task.getDataset(), task.getPlan(),
        task.getPrivacy());
    if (refusal.isPresent()) {
      decline(task.getTaskId(), refusal.get());
      return;
    }
    TrainingPlan plan = Descriptors.fromProto(task.getPlan());
    Prepared prepared = prepare(task.getDataset(), task.getPlan().getFeatureNamesList(), plan);
    if (prepared.problem().isPresent()) {
      decline(task.getTaskId(), prepared.problem().get());
      return;
    }
    float[] parameters = fetchModel(task.getModelId(), plan, deadline(task.getDeadlineUnixMillis()));
    token.throwIfCancelled();
    LocalDataset dataset = task.getPlan().getConsortiumZscore() ? scaledForJob(task.getJobId(), prepared.dataset(),
        task.getTensorsList(), deadline(task.getDeadlineUnixMillis())) : prepared.dataset();
    LocalTrainer.Evaluated evaluated = trainer.evaluate(plan, parameters, dataset);
    Map<String, Double> metrics = new LinkedHashMap<>(evaluated.metrics());
    if (task.getPlan().getLocalBaseline()) {
      metrics.putAll(localBaseline(task, plan, dataset));
    }
    if (task.getPrivacy().getDpClip() > 0) {
      // What this job has spent here so far, reported with each evaluation so the consortium sees it per hospital.
      metrics.put("dp_epsilon", ledger.spentBy(task.getJobId()).epsilon(task.getPrivacy().getDpDelta()).epsilon());
    }
    send.accept(AgentMessage.newBuilder().setEvaluation(EvaluationResult.newBuilder()
        .setTaskId(task.getTaskId())
        .setNumSamples(evaluated.numSamples())
        .putAllMetrics(metrics)).build());
  }

  /** The local-only model's metrics beside the global model's, or none (with the reason logged). */
  private Map<String, Double> localBaseline(EvaluateTask task, TrainingPlan plan, LocalDataset dataset) {
    Duration wait = Duration.ofMillis(Math.max(1_000, task.getDeadlineUnixMillis() - System.currentTimeMillis() - 2_000));
    try {
      Optional<Map<String, Double>> local = baselines.evaluate(task.getJobId(), dataset.name(), plan, dataset, wait);
      if (local.isEmpty()) {
        log.info("job {} round {}: no local-only baseline yet (this hospital has not trained in the job)",
            task.getJobId(), task.getRound());
      }
      return local.orElse(Map.of());
    } catch (TimeoutException e) {
      log.warn("job {} round {}: the local-only baseline was still training at the evaluation deadline; this"
          + " evaluation has no local_* metrics", task.getJobId(), task.getRound());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancellationToken.CancelledException("interrupted");
    } catch (RuntimeException e) {
      log.error("job {} round {}: cannot evaluate the local-only baseline, so this evaluation has no local_*"
          + " metrics: {}", task.getJobId(), task.getRound(), e.getMessage());
    }
    return Map.of();
  }

  /** A tensor attached to the task, fetched like the model, of {@code length} values. */
  private float[] fetchTensor(List<TaskTensor> tensors, String jobId, int round, String name, int length,
      Deadline deadline) {
    String id = tensors.stream().filter(t -> t.getName().equals(name)).map(TaskTensor::getModelId)
        .findFirst().orElseThrow(() -> new IllegalStateException("the task for job " + jobId + " round "
            + round + " carries no tensor '" + name + "', which its plan needs; it carries "
            + tensors.stream().map(TaskTensor::getName).toList()));
    float[] values = Tensors.fromBytes(transfers.download(id, deadline));
    if (values.length != length) {
      throw new IllegalStateException("task tensor '" + name + "' (" + id + ") has " + values.length
          + " values but this task needs " + length);
    }
    return values;
  }

  private float[] fetchModel(String modelId, TrainingPlan plan, Deadline deadline) {
    float[] parameters = Tensors.fromBytes(transfers.download(modelId, deadline));
    if (parameters.length != plan.parameterCount()) {
      throw new IllegalStateException("model " + modelId + " has " + parameters.length
          + " parameters but the training plan announced " + plan.parameterCount());
    }
    return parameters;
  }

  /** Why this hospital cannot run a task on the named dataset, if it cannot. */
  /** The dataset a task runs on (aligned to the job's feature ids, if it names them), or why it cannot run. */
  private record Prepared(LocalDataset dataset, Optional<String> problem) {}

  private Prepared prepare(String datasetName, List<String> features, TrainingPlan plan) {
    LocalDataset dataset = datasets.get(datasetName);
    if (dataset == null) {
      return new Prepared(null, Optional.of("node '" + nodeId + "' has no dataset named '" + datasetName
          + "'; it declares " + datasets.keySet().stream().sorted().toList()));
    }
    if (!features.isEmpty()) {
      String key = datasetName + "\n" + String.join("\n", features);
      FeatureAlignment.Result result = aligned.computeIfAbsent(key, k -> {
        FeatureAlignment.Result r = FeatureAlignment.align(dataset, features,
            missingFeatures.getOrDefault(datasetName, MissingFeatures.FAIL));
        log.info("aligning dataset '{}' to the job's feature ids: {}", datasetName, r.report());
        return r;
      });
      if (result.dataset().isEmpty()) {
        return new Prepared(null, Optional.of(result.report()));
      }
      return new Prepared(result.dataset().get(), mismatch(datasetName, result.dataset().get(), plan));
    }
    return new Prepared(dataset, mismatch(datasetName, dataset, plan));
  }

  private Optional<String> mismatch(String datasetName, LocalDataset dataset, TrainingPlan plan) {
    if (!Arrays.equals(dataset.inputShape(), plan.inputShape())) {
      return Optional.of("job expects input shape " + Arrays.toString(plan.inputShape()) + " but dataset '"
          + datasetName + "' at node '" + nodeId + "' has shape " + Arrays.toString(dataset.inputShape()));
    }
    if (dataset.classes().size() != plan.numClasses()) {
      return Optional.of("job expects " + plan.numClasses() + " classes but dataset '" + datasetName
          + "' at node '" + nodeId + "' declares " + dataset.classes().size() + ": " + dataset.classes());
    }
    return Optional.empty();
  }

  private void decline(String taskId, String reason) {
    log.warn("declining task {}: {}", taskId, reason);
    declined.add(taskId);
    send.accept(AgentMessage.newBuilder()
        .setDeclined(TaskDeclined.newBuilder().setTaskId(taskId).setReason(reason)).build());
  }

  private void fail(String taskId, String reason) {
    failed.add(taskId);
    send.accept(AgentMessage.newBuilder()
        .setFailed(TaskFailed.newBuilder().setTaskId(taskId).setReason(reason)).build());
  }

  private static Deadline deadline(long unixMillis) {
    long remaining = unixMillis - System.currentTimeMillis();
    return Deadline.after(Math.max(1_000, remaining > 0 ? remaining : TimeUnit.MINUTES.toMillis(10)),
        TimeUnit.MILLISECONDS);
  }
}
