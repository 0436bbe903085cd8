package org.medfed.coordinator.round;

import java.nio.FloatBuffer;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobTerms;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.session.ModelPublisher;
import org.medfed.proto.v1.AuditHead;
import org.medfed.proto.v1.TaskTensor;
import org.medfed.proto.v1.TrainTask;
import org.medfed.proto.v1.TrainingPlan;

/**
 * What hospitals download for one round's training, published while the round trains and withdrawn
 * when it ends: the global model and the tensors the strategy attaches to the task (SCAFFOLD's server
 * control variate). Both travel by the same chunked, hash-checked, size-bounded transfer. Builds the
 * training task for both the plaintext and the secure round, so that they send the same thing.
 */
final class TrainingDownloads implements AutoCloseable {
  private final ModelPublisher models;
  private final String modelId;
  private final Map<String, String> tensorIds = new TreeMap<>();

  TrainingDownloads(ModelPublisher models, String jobId, int round, GlobalModel model, Map<String, float[]> tensors) {
    this.models = models;
    this.modelId = models.publish(jobId, round, "global", model.parameterView());
    tensors.forEach((name, values) -> {
      if (values.length != model.parameterCount()) {
        throw new IllegalStateException("task tensor '" + name + "' has " + values.length + " values but the model "
            + model.parameterCount());
      }
      // A copy: the strategy may update its own state while hospitals still download this.
      tensorIds.put(name, models.publish(jobId, round, name, FloatBuffer.wrap(values.clone())));
    });
  }

  /** The training task for one hospital; the secure round adds its setup. */
  TrainTask.Builder task(String taskId, String jobId, int round, JobSpec spec, TrainingPlan plan, Instant deadline,
      AuditHead auditHead) {
    TrainTask.Builder task = TrainTask.newBuilder().setTaskId(taskId).setJobId(jobId).setRound(round)
        .setDataset(spec.dataset()).setPlan(plan).setPrivacy(JobTerms.privacy(spec)).setModelId(modelId)
        .setDeadlineUnixMillis(deadline.toEpochMilli()).setAuditHead(auditHead);
    tensorIds.forEach((name, id) -> task.addTensors(TaskTensor.newBuilder().setName(name).setModelId(id)));
    return task;
  }

  @Override
  public void close() {
    models.withdraw(modelId);
    tensorIds.values().forEach(models::withdraw);
  }
}
