package org.medfed.nodeagent.session;

import io.grpc.Deadline;
import io.grpc.StatusRuntimeException;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.nodeagent.training.TrainingPlan;
import org.medfed.proto.v1.AgentMessage;
import org.medfed.proto.v1.EvaluateTask;
import org.medfed.proto.v1.EvaluationResult;
import org.medfed.proto.v1.TaskDeclined;
import org.medfed.proto.v1.TaskFailed;
import org.medfed.proto.v1.TrainTask;
import org.medfed.wire.Digests;
import org.medfed.wire.Tensors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the coordinator's tasks at the hospital, one at a time: checks that the task fits a local
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

  TaskRunner(String nodeId, Map<String, LocalDataset> datasets, LocalTrainer trainer, Transfers transfers,
      Consumer<AgentMessage> send, ExecutorService worker) {
    this.nodeId = nodeId;
    this.datasets = datasets;
    this.trainer = trainer;
    this.transfers = transfers;
    this.send = send;
    this.worker = worker;
  }

  void train(TrainTask task) {
    submit(task.getTaskId(), token -> runTraining(task, token));
  }

  void evaluate(EvaluateTask task) {
    submit(task.getTaskId(), token -> runEvaluation(task, token));
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
  }

  private void submit(String taskId, Consumer<CancellationToken> body) {
    CancellationToken token = new CancellationToken();
    running.put(taskId, token);
    try {
      worker.execute(() -> {
        try {
          token.throwIfCancelled();
          body.accept(token);
        } catch (CancellationToken.CancelledException e) {
          log.info("task {} stopped: {}", taskId, e.getMessage());
        } catch (StatusRuntimeException e) {
          log.error("task {}: the coordinator answered {}: {}", taskId, e.getStatus().getCode(),
              e.getStatus().getDescription());
          fail(taskId, "coordinator answered " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
        } catch (RuntimeException e) {
          log.error("task {} failed: {}", taskId, e.toString(), e);
          fail(taskId, e.getClass().getSimpleName() + ": " + e.getMessage());
        } finally {
          running.remove(taskId);
        }
      });
    } catch (RejectedExecutionException e) {
      running.remove(taskId);
    }
  }

  private void runTraining(TrainTask task, CancellationToken token) {
    TrainingPlan plan = Descriptors.fromProto(task.getPlan());
    Optional<String> mismatch = mismatch(task.getDataset(), plan);
    if (mismatch.isPresent()) {
      decline(task.getTaskId(), mismatch.get());
      return;
    }
    LocalDataset dataset = datasets.get(task.getDataset());
    Deadline deadline = deadline(task.getDeadlineUnixMillis());
    float[] global = fetchModel(task.getModelId(), plan, deadline);
    token.throwIfCancelled();
    long started = System.nanoTime();
    LocalTrainer.Trained trained = trainer.train(plan, global, dataset, token);
    token.throwIfCancelled();
    float[] local = trained.parameters();
    if (local.length != global.length) {
      throw new IllegalStateException("trainer returned " + local.length + " parameters for a model of " + global.length);
    }
    float[] update = new float[local.length];
    for (int i = 0; i < update.length; i++) {
      update[i] = local[i] - global[i];
    }
    var receipt = transfers.upload(task.getTaskId(), Tensors.toBytes(update), trained.numSamples(),
        trained.metrics(), deadline);
    log.info("job {} round {}: trained on {} samples in {} ms, update sha256={} uploaded", task.getJobId(),
        task.getRound(), trained.numSamples(), (System.nanoTime() - started) / 1_000_000,
        Digests.shortHex(receipt.getSha256().toByteArray()));
  }

  private void runEvaluation(EvaluateTask task, CancellationToken token) {
    TrainingPlan plan = Descriptors.fromProto(task.getPlan());
    Optional<String> mismatch = mismatch(task.getDataset(), plan);
    if (mismatch.isPresent()) {
      decline(task.getTaskId(), mismatch.get());
      return;
    }
    float[] parameters = fetchModel(task.getModelId(), plan, deadline(task.getDeadlineUnixMillis()));
    token.throwIfCancelled();
    LocalTrainer.Evaluated evaluated = trainer.evaluate(plan, parameters, datasets.get(task.getDataset()));
    send.accept(AgentMessage.newBuilder().setEvaluation(EvaluationResult.newBuilder()
        .setTaskId(task.getTaskId())
        .setNumSamples(evaluated.numSamples())
        .putAllMetrics(evaluated.metrics())).build());
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
  private Optional<String> mismatch(String datasetName, TrainingPlan plan) {
    LocalDataset dataset = datasets.get(datasetName);
    if (dataset == null) {
      return Optional.of("node '" + nodeId + "' has no dataset named '" + datasetName + "'; it declares "
          + datasets.keySet().stream().sorted().toList());
    }
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
    send.accept(AgentMessage.newBuilder()
        .setDeclined(TaskDeclined.newBuilder().setTaskId(taskId).setReason(reason)).build());
  }

  private void fail(String taskId, String reason) {
    send.accept(AgentMessage.newBuilder()
        .setFailed(TaskFailed.newBuilder().setTaskId(taskId).setReason(reason)).build());
  }

  private static Deadline deadline(long unixMillis) {
    long remaining = unixMillis - System.currentTimeMillis();
    return Deadline.after(Math.max(1_000, remaining > 0 ? remaining : TimeUnit.MINUTES.toMillis(10)),
        TimeUnit.MILLISECONDS);
  }
}
