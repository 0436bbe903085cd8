package org.medfed.coordinator.round;

import java.nio.FloatBuffer;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobTerms;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.session.ModelPublisher;
import org.medfed.proto.v1.AuditHead;
import org.medfed.proto.v1.FeatureStatisticsPass;
import org.medfed.proto.v1.TaskTensor;
import org.medfed.proto.v1.TrainTask;
import org.medfed.proto.v1.TrainingPlan;
import org.medfed.wire.FeatureStatistics;
import org.medfed.wire.UpdateLayout;

/**
 * What hospitals download for one round's training, published while the round trains and withdrawn
 * when it ends: the global model and the tensors attached to the task (SCAFFOLD's server control
 * variate, the consortium's feature scaling). All travel by the same chunked, hash-checked,
 * size-bounded transfer. Builds the training task for both the plaintext and the secure round, so
 * that they send the same thing; a feature-statistics pass sends no model, and its update has that
 * pass's layout.
 */
final class TrainingDownloads implements AutoCloseable {
  private final ModelPublisher models;
  private final Optional<String> modelId;
  private final FeatureStatisticsPass statistics;
  private final Map<String, String> tensorIds = new TreeMap<>();

  private TrainingDownloads(ModelPublisher models, Optional<String> modelId, FeatureStatisticsPass statistics) {
    this.models = models;
    this.modelId = modelId;
    this.statistics = statistics;
  }

  /** A training round's: the model, the strategy's tensors (each the model's length) and the feature scaling. */
  static TrainingDownloads forRound(ModelPublisher models, String jobId, int round, GlobalModel model,
      Map<String, float[]> strategyTensors, Optional<FeatureStatistics.Scaling> scaling) {
    strategyTensors.forEach((name, values) -> {
      if (values.length != model.parameterCount()) {
        throw new IllegalStateException("task tensor '" + name + "' has " + values.length + " values but the model "
            + model.parameterCount());
      }
    });
    TrainingDownloads downloads = new TrainingDownloads(models,
        Optional.of(models.publish(jobId, round, "global", model.parameterView())),
        FeatureStatisticsPass.FEATURE_STATISTICS_NONE);
    downloads.publish(jobId, round, strategyTensors);
    scaling.ifPresent(s -> downloads.publish(jobId, round, scalingTensors(s)));
    return downloads;
  }

  /** A feature-statistics pass's: no model, only the pass's own tensors (pass 2's units). */
  static TrainingDownloads forStatistics(ModelPublisher models, String jobId, int round, FeatureStatisticsPass pass,
      Map<String, float[]> tensors) {
    TrainingDownloads downloads = new TrainingDownloads(models, Optional.empty(), pass);
    downloads.publish(jobId, round, tensors);
    return downloads;
  }

  /** The tensors every task of a scaled job carries, evaluation tasks included. */
  static Map<String, float[]> scalingTensors(FeatureStatistics.Scaling scaling) {
    return Map.of(FeatureStatistics.MEAN, scaling.mean(), FeatureStatistics.SCALE, scaling.scale());
  }

  private void publish(String jobId, int round, Map<String, float[]> tensors) {
    // Copies: the strategy may update its own state while hospitals still download these.
    tensors.forEach((name, values) -> tensorIds.put(name, models.publish(jobId, round, name,
        FloatBuffer.wrap(values.clone()))));
  }

  /** The layout of the update each hospital returns for these downloads. */
  UpdateLayout layout(TrainingPlan plan) {
    return FeatureStatistics.layout(statistics, plan);
  }

  /** The secure sum's clip: the job's for updates; a statistics pass sends values within its own. */
  double clip(double jobClip) {
    return statistics == FeatureStatisticsPass.FEATURE_STATISTICS_NONE ? jobClip : FeatureStatistics.CLIP;
  }

  /** The training task for one hospital; the secure round adds its setup. */
  TrainTask.Builder task(String taskId, String jobId, int round, JobSpec spec, TrainingPlan plan, Instant deadline,
      AuditHead auditHead) {
    TrainTask.Builder task = TrainTask.newBuilder().setTaskId(taskId).setJobId(jobId).setRound(round)
        .setDataset(spec.dataset()).setPlan(plan).setPrivacy(JobTerms.privacy(spec)).setStatistics(statistics)
        .setDeadlineUnixMillis(deadline.toEpochMilli()).setAuditHead(auditHead);
    modelId.ifPresent(task::setModelId);
    tensorIds.forEach((name, id) -> task.addTensors(TaskTensor.newBuilder().setName(name).setModelId(id)));
    return task;
  }

  @Override
  public void close() {
    modelId.ifPresent(models::withdraw);
    tensorIds.values().forEach(models::withdraw);
  }
}
