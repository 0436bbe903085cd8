package org.medfed.coordinator.model;

import java.util.Optional;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.models.archive.ModelArchive;
import org.medfed.models.archive.ModelInfo;
import org.medfed.wire.FeatureStatistics;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns a global model into the standard DL4J model zip users load with {@code ModelSerializer},
 * with the job's {@link ModelInfo} inside so {@code medfed-agent evaluate} and {@code predict} know
 * what it expects.
 */
public final class ModelExport {
  private ModelExport() {}

  public static MultiLayerNetwork toNetwork(GlobalModel model) {
    MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(model.configJson()));
    net.init();
    float[] parameters = model.parameters();
    net.setParams(Nd4j.create(parameters, new long[] {1, parameters.length}, DataType.FLOAT));
    return net;
  }

  /** The zip of the job's model at {@code round}; the same model gives the same bytes. */
  public static byte[] toDl4jZip(GlobalModel model, Job job, int round) {
    return toDl4jZip(model, job, round, Optional.empty());
  }

  /** As above, for a model whose inputs need the consortium's z-score ({@code scaling}) first. */
  public static byte[] toDl4jZip(GlobalModel model, Job job, int round, Optional<FeatureStatistics.Scaling> scaling) {
    ModelInfo info = info(job, round);
    return ModelArchive.write(toNetwork(model), scaling.map(s -> info.withFeatureScaling(s.mean(), s.scale()))
        .orElse(info));
  }

  static ModelInfo info(Job job, int round) {
    JobSpec spec = job.spec();
    return new ModelInfo(job.id(), spec.name(), spec.dataset(), spec.inputShape(), spec.numClasses(),
        spec.model().survival(), spec.features(), round);
  }
}
