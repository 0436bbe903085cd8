package org.medfed.coordinator.round;

import java.nio.FloatBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.medfed.coordinator.job.FeatureScaling;
import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobTerms;
import org.medfed.coordinator.job.RoundRecord;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.session.NodeSession;
import org.medfed.coordinator.session.TaskBoard;
import org.medfed.coordinator.session.TaskResult;
import org.medfed.coordinator.strategy.Aggregate;
import org.medfed.coordinator.strategy.ClientUpdate;
import org.medfed.coordinator.strategy.RoundInput;
import org.medfed.coordinator.strategy.Strategy;
import org.medfed.proto.v1.CancelTask;
import org.medfed.proto.v1.CoordinatorMessage;
import org.medfed.proto.v1.EvaluateTask;
import org.medfed.proto.v1.FeatureStatisticsPass;
import org.medfed.proto.v1.TaskTensor;
import org.medfed.proto.v1.TrainingPlan;
import org.medfed.wire.Digests;
import org.medfed.wire.FeatureStatistics;
import org.medfed.wire.JobDigest;
import org.medfed.wire.Tensors;
import org.medfed.wire.UpdateLayout;

/**
 * One federated round, as an explicit sequence of phases:
 *
 * <ol>
 *   <li>{@link Phase#SELECT}: wait (up to the selection deadline) for min_nodes connected hospitals
 *       that hold the job's dataset, then draw the job's fraction of them;
 *   <li>{@link Phase#QUEUED}: only while hospitals it needs are busy with other jobs' rounds: the
 *       round holds every hospital it trains or evaluates on, all at once, first come first served
 *       ({@link HospitalSchedule});
 *   <li>{@link Phase#STATISTICS}: only before the first round of a job with consortium z-scores: the
 *       selected hospitals' feature statistics, aggregated like updates in two passes
 *       ({@link FeatureStatistics}), give the pooled means and standard deviations every later task
 *       carries;
 *   <li>{@link Phase#TRAIN}: publish the global model, send each selected node a training task, and
 *       collect validated updates until all answered, too few can still answer, or the deadline;
 *       with secure aggregation (the default) {@link SecureTraining} runs the four protocol stages
 *       instead and yields only the weighted mean of the survivors' updates;
 *   <li>{@link Phase#AGGREGATE}: hand the accepted updates to the job's strategy;
 *   <li>{@link Phase#EVALUATE}: every connected hospital with the dataset evaluates the new model on
 *       its held-out split; metrics are weighted by sample count;
 *   <li>{@link Phase#CHECKPOINT}: write model, metrics and strategy state to disk; the job runner
 *       then stores the round, and only then does it count.
 * </ol>
 *
 * Each phase is stored in the coordinator's database as it is entered, before it acts.
 *
 * Every wait has a deadline, so a round always ends: {@link RoundOutcome.Completed}, or
 * {@link RoundOutcome.Failed} naming the nodes that were missing, or {@link RoundOutcome.Cancelled}.
 * Deadlines, node selection and dropout handling live here and nowhere else.
 */
public final class RoundStateMachine {

  public enum Phase { SELECT, QUEUED, STATISTICS, TRAIN, AGGREGATE, EVALUATE, CHECKPOINT }

  /** How long SELECT waits for connected hospitals to answer a job's proposal once min_nodes approved. */
  private static final Duration ANSWER_GRACE = Duration.ofSeconds(5);
  private static final String ABANDONED = "round abandoned: too few nodes could still answer";

  private final Job job;
  private final JobSpec spec;
  private final RoundServices services;
  private final Strategy strategy;
  /** The consortium's feature scaling, once measured (or restored from a checkpoint); kept across rounds. */
  private Optional<FeatureStatistics.Scaling> scaling;

  /** @param scaling a consortium-zscore job's scaling from its checkpoint; empty before it is measured */
  public RoundStateMachine(Job job, RoundServices services, Strategy strategy,
      Optional<FeatureStatistics.Scaling> scaling) {
    this.job = job;
    this.spec = job.spec();
    this.services = services;
    this.strategy = strategy;
    this.scaling = scaling;
  }

  public RoundOutcome run(int round, GlobalModel model) throws InterruptedException {
    Instant started = services.clock().instant();

    List<NodeSession> holding = services.nodes().connected(this::holdsDataset);
    List<String> waiting = services.approvals().notApproved(job.id(), holding);
    enter(round, Phase.SELECT, "waiting for " + spec.minNodes() + " nodes with dataset '" + spec.dataset()
        + "' that approved job digest " + JobDigest.shortForm(job.digest())
        + (waiting.isEmpty() ? "" : "; not approved by " + waiting));
    // Ready once min_nodes approved and every connected holder answered the proposal; a holder that
    // stays silent is waited for ANSWER_GRACE at most, so it cannot hold the round up to the deadline.
    Instant graceEnds = started.plus(ANSWER_GRACE);
    services.nodes().awaitUntil(() -> {
      List<NodeSession> holders = services.nodes().connected(this::holdsDataset);
      long approved = holders.stream().filter(n -> services.approvals().approved(job.id(), n.nodeId())).count();
      return approved >= spec.minNodes() && (!services.clock().instant().isBefore(graceEnds)
          || holders.stream().allMatch(n -> services.approvals().answered(job.id(), n.nodeId())));
    }, started.plus(spec.deadlines().selection()), job::isCancelled);
    List<NodeSession> eligible = services.nodes().connected(
        node -> holdsDataset(node) && services.approvals().approved(job.id(), node.nodeId()));
    if (job.isCancelled()) {
      return new RoundOutcome.Cancelled(job.cancellation().getNow("cancelled"));
    }
    if (eligible.size() < spec.minNodes()) {
      List<String> notApproved = services.approvals().notApproved(job.id(), services.nodes().connected(this::holdsDataset));
      return new RoundOutcome.Failed("round " + round + ": only " + eligible.size() + " connected node(s) hold dataset '"
          + spec.dataset() + "' and approved the job " + ids(eligible) + " after waiting "
          + seconds(spec.deadlines().selection()) + "; min_nodes is " + spec.minNodes()
          + (notApproved.isEmpty() ? "" : "; not approved by " + notApproved + " (digest " + job.digest() + ")")
          + "; connected nodes: " + services.nodes().connectedIds());
    }
    // The round holds every hospital it will train or evaluate on until it ends, so jobs that share
    // hospitals take turns instead of deadlocking (see HospitalSchedule).
    Map<String, Integer> capacity = new LinkedHashMap<>();
    eligible.forEach(node -> capacity.put(node.nodeId(), node.maxConcurrentTasks()));
    Optional<HospitalSchedule.Reservation> reservation = services.schedule().reserve(
        new HospitalSchedule.Claim(job.id(), round), capacity, job::isCancelled,
        why -> enter(round, Phase.QUEUED, why));
    if (reservation.isEmpty()) {
      return new RoundOutcome.Cancelled(job.cancellation().getNow("cancelled"));
    }
    try (HospitalSchedule.Reservation held = reservation.get()) {
      // A hospital may have reconnected while the round waited: train on its current session.
      List<String> chosen = ids(select(eligible, round));
      List<NodeSession> selected = services.nodes().connected(n -> chosen.contains(n.nodeId()));
      // Or gone for good: a secure round among fewer than min_nodes would unmask a sum of fewer
      // hospitals than the job allows, only to refuse it afterwards.
      if (selected.size() < spec.minNodes()) {
        List<String> gone = new ArrayList<>(chosen);
        gone.removeAll(ids(selected));
        return new RoundOutcome.Failed("round " + round + ": " + gone + " disconnected while the round waited for busy"
            + " hospitals, leaving " + selected.size() + " of the selected nodes and min_nodes is " + spec.minNodes()
            + "; nothing was trained");
      }
      return trainAndAggregate(round, model, selected, eligible.size(), started);
    }
  }

  /** @param population the hospitals the round drew {@code selected} from (eligible ones) */
  private RoundOutcome trainAndAggregate(int round, GlobalModel model, List<NodeSession> selected, int population,
      Instant started) throws InterruptedException {
    if (spec.featureScaling() == FeatureScaling.CONSORTIUM_ZSCORE && scaling.isEmpty()) {
      Optional<String> failed = measureScaling(round, model, selected);
      if (job.isCancelled()) {
        return new RoundOutcome.Cancelled(job.cancellation().getNow("cancelled"));
      }
      if (failed.isPresent()) {
        return new RoundOutcome.Failed(failed.get());
      }
    }
    Trained trained = trainAndUpdate(round, model, selected, population);
    if (trained instanceof Trained.Stopped stopped) {
      return stopped.outcome();
    }
    Trained.Updated updated = (Trained.Updated) trained;
    GlobalModel next = updated.next();
    Map<String, Double> metrics = new LinkedHashMap<>(updated.metrics());

    enter(round, Phase.EVALUATE, "evaluating the new global model");
    Evaluation evaluation = evaluate(round, next);
    metrics.putAll(evaluation.means());

    enter(round, Phase.CHECKPOINT, "writing checkpoint");
    // Counted only once the job runner has stored the round with this digest; a crash before that
    // redoes the round from the previous checkpoint.
    String aggregateDigest = services.checkpoints().write(job.id(), round, next, metrics,
        ScalingCheckpoint.merge(strategy.state(), scaling));
    Duration took = Duration.between(started, services.clock().instant());
    return new RoundOutcome.Completed(next, new RoundRecord(round, updated.contributors(), updated.dropped(), metrics,
        took, aggregateDigest, evaluation.byHospital()));
  }

  /**
   * How TRAIN and AGGREGATE ended: the new model, or the round's outcome when it stops there. The
   * round's update is not part of it: once the strategy has turned it into the new model it is
   * garbage, so evaluation and the checkpoint hold the old and the new model only (issue 16 item 2).
   */
  private sealed interface Trained {
    record Updated(GlobalModel next, Map<String, Double> metrics, List<String> contributors,
        Map<String, String> dropped) implements Trained {}

    record Stopped(RoundOutcome outcome) implements Trained {}
  }

  private Trained trainAndUpdate(int round, GlobalModel model, List<NodeSession> selected, int population)
      throws InterruptedException {
    enter(round, Phase.TRAIN, "training on " + ids(selected));
    services.audit().append("ROUND_STARTED", Map.of("job", job.id(), "round", round, "participants", ids(selected),
        "model_sha256", Digests.hex(Tensors.sha256(model.parameterView())), "digest", job.digest()));
    Collected collected;
    try (TrainingDownloads downloads = TrainingDownloads.forRound(services.models(), job.id(), round, model,
        strategy.taskTensors(round, model.parameters()), scaling)) {
      collected = collect(round, selected, model, downloads);
    }
    if (job.isCancelled()) {
      return new Trained.Stopped(new RoundOutcome.Cancelled(job.cancellation().getNow("cancelled")));
    }
    if (collected instanceof Collected.TooFew tooFew) {
      return new Trained.Stopped(new RoundOutcome.Failed(tooFew.reason()));
    }
    Collected.Combined combined = (Collected.Combined) collected;
    if (combined.contributors().size() < spec.minNodes()) {
      return new Trained.Stopped(new RoundOutcome.Failed("round " + round + ": only " + combined.contributors().size()
          + " nodes' updates are in the secure aggregate and min_nodes is " + spec.minNodes() + "; missing: "
          + format(combined.dropped())));
    }

    enter(round, Phase.AGGREGATE, "aggregating " + combined.contributors().size() + " updates with " + strategy);
    // Never below the contributors: a hospital may have connected between selection and now.
    Aggregate aggregate = strategy.aggregate(round, model.parameters(),
        combined.input().withPopulation(Math.max(population, combined.contributors().size())));
    if (aggregate instanceof Aggregate.Skipped skipped) {
      return new Trained.Stopped(new RoundOutcome.Failed("round " + round + ": " + skipped.reason()));
    }
    Aggregate.Updated updated = (Aggregate.Updated) aggregate;
    GlobalModel next = new GlobalModel(model.configJson(), updated.parameters());
    Map<String, Double> metrics = new LinkedHashMap<>();
    updated.metrics().forEach((name, value) -> metrics.put(name.startsWith("train_") ? name : "train_" + name, value));
    return new Trained.Updated(next, metrics, combined.contributors(), combined.dropped());
  }

  /** The consortium's feature scaling this machine measured or was given, for the job's checkpoints. */
  public Optional<FeatureStatistics.Scaling> scaling() {
    return scaling;
  }

  /**
   * The STATISTICS phase: two passes through the job's aggregation, so that under secure aggregation
   * the coordinator learns pooled figures only. The hospitals approved this with the job's digest
   * (TrainingPlan.consortium_zscore); what they send is {@link FeatureStatistics}'.
   *
   * @return why the round fails, if too few hospitals answered
   */
  private Optional<String> measureScaling(int round, GlobalModel model, List<NodeSession> selected)
      throws InterruptedException {
    enter(round, Phase.STATISTICS, "measuring the consortium's feature means and standard deviations on "
        + ids(selected) + " (pass 1 of 2: magnitudes)");
    Collected magnitudes = statisticsPass(round, model, selected, FeatureStatisticsPass.FEATURE_MAGNITUDE, Map.of());
    if (!(magnitudes instanceof Collected.Combined first) || first.contributors().size() < spec.minNodes()) {
      return Optional.of("round " + round + ", feature statistics (pass 1 of 2): " + tooFew(magnitudes));
    }
    float[] units = FeatureStatistics.units(first.input().mean().meanDelta(), first.contributors().size());
    enter(round, Phase.STATISTICS, "measuring the consortium's feature means and standard deviations on "
        + ids(selected) + " (pass 2 of 2: moments)");
    Collected moments = statisticsPass(round, model, selected, FeatureStatisticsPass.FEATURE_MOMENTS,
        Map.of(FeatureStatistics.UNIT, units));
    if (!(moments instanceof Collected.Combined second) || second.contributors().size() < spec.minNodes()) {
      return Optional.of("round " + round + ", feature statistics (pass 2 of 2): " + tooFew(moments));
    }
    FeatureStatistics.Scaling measured = FeatureStatistics.scaling(second.input().mean().meanDelta(), units);
    scaling = Optional.of(measured);
    services.audit().append("FEATURE_STATISTICS", Map.of("job", job.id(), "round", round,
        "contributors", second.contributors(), "features", measured.features(),
        "scaling_sha256", Digests.hex(Digests.sha256(Tensors.toBytes(concat(measured.mean(), measured.scale()))))));
    return Optional.empty();
  }

  /** One pass: the plan (and so the digest the hospitals approved) is the round's, the task another. */
  private Collected statisticsPass(int round, GlobalModel model, List<NodeSession> selected, FeatureStatisticsPass pass,
      Map<String, float[]> tensors) throws InterruptedException {
    try (TrainingDownloads downloads = TrainingDownloads.forStatistics(services.models(), job.id(), round, pass,
        tensors)) {
      return collect(round, selected, model, downloads);
    }
  }

  private String tooFew(Collected collected) {
    return collected instanceof Collected.Combined combined
        ? "only " + combined.contributors().size() + " hospitals' statistics are in the aggregate and min_nodes is "
            + spec.minNodes() + "; missing: " + format(combined.dropped())
        : ((Collected.TooFew) collected).reason();
  }

  private static float[] concat(float[] first, float[] second) {
    float[] both = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, both, first.length, second.length);
    return both;
  }

  /** The TRAIN phase's collection, secure (the default) or in the clear; also a statistics pass's. */
  private Collected collect(int round, List<NodeSession> selected, GlobalModel model, TrainingDownloads downloads)
      throws InterruptedException {
    return spec.secureAggregation().enabled()
        ? new SecureTraining(job, services).run(round, selected, plan(model), downloads)
        : trainInTheClear(round, selected, model, downloads);
  }

  /**
   * Without secure aggregation: each update is validated, split into the vectors of the plan's
   * layout, and handed to the strategy as it is.
   */
  private Collected trainInTheClear(int round, List<NodeSession> selected, GlobalModel model,
      TrainingDownloads downloads) throws InterruptedException {
    UpdateLayout layout = downloads.layout(plan(model));
    Map<String, TaskResult> results = trainOn(selected, round, model, layout, downloads);
    List<ClientUpdate> updates = new ArrayList<>();
    Map<String, String> dropped = new LinkedHashMap<>();
    results.forEach((node, result) -> {
      if (result instanceof TaskResult.Trained trained) {
        Map<String, float[]> vectors = layout.split(trained.update());
        float[] delta = vectors.remove(UpdateLayout.DELTA);
        updates.add(new ClientUpdate(node, delta, vectors, trained.numSamples(), trained.metrics()));
      } else {
        dropped.put(node, TaskResult.describe(result));
      }
    });
    if (updates.size() < spec.minNodes()) {
      Map<String, String> failed = new LinkedHashMap<>(dropped);
      List<String> abandoned = new ArrayList<>();
      dropped.forEach((node, why) -> {
        if (why.equals(ABANDONED)) {
          abandoned.add(node);
          failed.remove(node);
        }
      });
      return new Collected.TooFew("round " + round + ": only " + (updates.size() + abandoned.size()) + " of "
          + selected.size() + " selected nodes could return an accepted update and min_nodes is " + spec.minNodes()
          + "; missing: " + format(failed) + (abandoned.isEmpty() ? "" : "; stopped waiting for " + abandoned));
    }
    return new Collected.Combined(new RoundInput.EachUpdate(updates), updates.stream().map(ClientUpdate::nodeId).toList(),
        dropped);
  }

  private boolean holdsDataset(NodeSession node) {
    return node.dataset(spec.dataset()).isPresent();
  }

  /** A seeded draw, so a job with the same seed selects the same nodes. */
  private List<NodeSession> select(List<NodeSession> eligible, int round) {
    List<NodeSession> shuffled = new ArrayList<>(eligible);
    Collections.shuffle(shuffled, new Random(spec.seed() * 1_000_003L + round));
    int wanted = Math.max(spec.minNodes(), (int) Math.ceil(spec.fractionPerRound() * eligible.size()));
    return List.copyOf(shuffled.subList(0, Math.min(wanted, shuffled.size())));
  }

  private Map<String, TaskResult> trainOn(List<NodeSession> selected, int round, GlobalModel model,
      UpdateLayout layout, TrainingDownloads downloads) throws InterruptedException {
    Instant deadline = services.clock().instant().plus(spec.deadlines().training());
    Map<TaskBoard.Issued, NodeSession> issued = new LinkedHashMap<>();
    for (NodeSession node : selected) {
      TaskBoard.Issued task = services.tasks().issue(node.nodeId(), TaskBoard.Kind.TRAIN,
          update -> UpdateChecks.problem(update, layout));
      issued.put(task, node);
      node.send(CoordinatorMessage.newBuilder().setTrain(downloads.task(task.taskId(), job.id(), round, spec,
          plan(model), deadline, services.auditHead())).build());
    }
    // Stop waiting as soon as min_nodes accepted updates are no longer possible.
    int tolerableLosses = selected.size() - spec.minNodes();
    return await(issued, deadline, "training", tolerableLosses, round);
  }

  /** The round's evaluation: sample-weighted means ({@code eval_*}) and each hospital's own figures. */
  private record Evaluation(Map<String, Double> means, Map<String, Map<String, Double>> byHospital) {}

  private Evaluation evaluate(int round, GlobalModel model) throws InterruptedException {
    List<NodeSession> evaluators = services.nodes().connected(this::holdsDataset);
    String modelId = services.models().publish(job.id(), round, "evaluate", model.parameterView());
    // Hospitals evaluate on features scaled as they trained on them.
    Map<String, String> tensorIds = new TreeMap<>();
    scaling.ifPresent(s -> TrainingDownloads.scalingTensors(s).forEach((name, values) ->
        tensorIds.put(name, services.models().publish(job.id(), round, "evaluate_" + name, FloatBuffer.wrap(values)))));
    Instant deadline = services.clock().instant().plus(spec.deadlines().evaluation());
    Map<String, TaskResult> results;
    try {
      Map<TaskBoard.Issued, NodeSession> issued = new LinkedHashMap<>();
      for (NodeSession node : evaluators) {
        TaskBoard.Issued task = services.tasks().issue(node.nodeId(), TaskBoard.Kind.EVALUATE, u -> Optional.empty());
        issued.put(task, node);
        EvaluateTask.Builder evaluate = EvaluateTask.newBuilder()
            .setTaskId(task.taskId()).setJobId(job.id()).setRound(round).setDataset(spec.dataset())
            .setPlan(plan(model)).setPrivacy(JobTerms.privacy(spec)).setModelId(modelId)
            .setDeadlineUnixMillis(deadline.toEpochMilli()).setAuditHead(services.auditHead());
        tensorIds.forEach((name, id) -> evaluate.addTensors(TaskTensor.newBuilder().setName(name).setModelId(id)));
        node.send(CoordinatorMessage.newBuilder().setEvaluate(evaluate).build());
      }
      results = await(issued, deadline, "evaluation", issued.size(), round);
    } finally {
      services.models().withdraw(modelId);
      tensorIds.values().forEach(services.models()::withdraw);
    }
    // Sample-weighted means; a node whose metric is undefined (a C-index without events) is left
    // out of that metric's mean rather than turning it into NaN.
    Map<String, Double> sums = new LinkedHashMap<>();
    Map<String, Long> weights = new LinkedHashMap<>();
    long samples = 0;
    Map<String, Map<String, Double>> byHospital = new TreeMap<>();
    for (Map.Entry<String, TaskResult> entry : results.entrySet()) {
      if (entry.getValue() instanceof TaskResult.Evaluated evaluated && evaluated.numSamples() > 0) {
        Map<String, Double> own = new TreeMap<>(evaluated.metrics());
        own.put("samples", (double) evaluated.numSamples());
        byHospital.put(entry.getKey(), own);
        samples += evaluated.numSamples();
        evaluated.metrics().forEach((name, value) -> {
          if (Double.isFinite(value)) {
            sums.merge("eval_" + name, value * evaluated.numSamples(), Double::sum);
            weights.merge("eval_" + name, evaluated.numSamples(), Long::sum);
          }
        });
      }
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    for (Map.Entry<String, Double> sum : sums.entrySet()) {
      metrics.put(sum.getKey(), sum.getValue() / weights.get(sum.getKey()));
    }
    metrics.put("eval_samples", (double) samples);
    metrics.put("eval_nodes", (double) results.values().stream().filter(r -> r instanceof TaskResult.Evaluated).count());
    return new Evaluation(metrics, byHospital);
  }

  /**
   * Waits for the tasks until all have ended, more than {@code tolerableLosses} have failed, the
   * job is cancelled, or the deadline passes. Unfinished tasks are cancelled at their nodes.
   */
  private Map<String, TaskResult> await(Map<TaskBoard.Issued, NodeSession> issued, Instant deadline, String stage,
      int tolerableLosses, int round) throws InterruptedException {
    CompletableFuture<Void> allDone = CompletableFuture.allOf(
        issued.keySet().stream().map(TaskBoard.Issued::result).toArray(CompletableFuture[]::new));
    CompletableFuture<Void> hopeless = new CompletableFuture<>();
    AtomicInteger losses = new AtomicInteger();
    AtomicInteger answered = new AtomicInteger();
    for (TaskBoard.Issued task : issued.keySet()) {
      task.result().thenAccept(result -> {
        job.answered(stage, answered, issued.size());
        if (!(result instanceof TaskResult.Trained || result instanceof TaskResult.Evaluated)) {
          job.progress(round, stage.toUpperCase(Locale.ROOT), "node '" + task.nodeId() + "': "
              + TaskResult.describe(result), Map.of());
          if (losses.incrementAndGet() > tolerableLosses) {
            hopeless.complete(null);
          }
        }
      });
    }
    long waitMillis = Math.max(0, deadline.toEpochMilli() - services.clock().millis());
    try {
      CompletableFuture.anyOf(allDone, hopeless, job.cancellation()).get(waitMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      // Handled below: every unfinished task is marked as having missed the deadline.
    } catch (ExecutionException e) {
      throw new IllegalStateException("a task future failed unexpectedly", e.getCause());
    }
    Map<String, TaskResult> results = new LinkedHashMap<>();
    for (Map.Entry<TaskBoard.Issued, NodeSession> entry : issued.entrySet()) {
      TaskBoard.Issued task = entry.getKey();
      Duration limit = stage.equals("training") ? spec.deadlines().training() : spec.deadlines().evaluation();
      String reason = job.isCancelled() ? "job cancelled"
          : hopeless.isDone() ? ABANDONED
          : "no " + stage + " result before the " + seconds(limit) + " deadline";
      if (!task.result().isDone()) {
        entry.getValue().send(CoordinatorMessage.newBuilder()
            .setCancel(CancelTask.newBuilder().setTaskId(task.taskId()).setReason(reason)).build());
      }
      services.tasks().retire(task, new TaskResult.Failed(reason));
      results.put(task.nodeId(), task.result().join());
    }
    return results;
  }

  private TrainingPlan plan(GlobalModel model) {
    return JobTerms.plan(spec, model);
  }

  private void enter(int round, Phase phase, String text) {
    job.progress(round, phase.name(), "round " + round + "/" + spec.rounds() + " " + phase + ": " + text, Map.of());
  }

  private static String format(Map<String, String> dropped) {
    List<String> parts = new ArrayList<>();
    dropped.forEach((node, why) -> parts.add(node + " (" + why + ")"));
    return parts.isEmpty() ? "none" : String.join(", ", parts);
  }

  private static List<String> ids(List<NodeSession> nodes) {
    return nodes.stream().map(NodeSession::nodeId).toList();
  }

  private static String seconds(Duration duration) {
    return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + " s" : duration.toMillis() / 1000.0 + " s";
  }
}
