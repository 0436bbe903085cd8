package org.medfed.nodeagent.session;

import org.medfed.nodeagent.data.DatasetDescriptor;
import org.medfed.nodeagent.training.TrainingPlan;

/** Maps agent-side records to their protobuf messages and back. */
final class Descriptors {
  private Descriptors() {}

  static org.medfed.proto.v1.DatasetDescriptor toProto(DatasetDescriptor d) {
    var builder = org.medfed.proto.v1.DatasetDescriptor.newBuilder()
        .setName(d.name())
        .setKind(switch (d.kind()) {
          case IMAGING -> org.medfed.proto.v1.DatasetKind.IMAGING;
          case GENOMIC -> org.medfed.proto.v1.DatasetKind.GENOMIC;
          case CLINICAL -> org.medfed.proto.v1.DatasetKind.CLINICAL;
        })
        .setTrainSamples(d.trainSamples())
        .setTestSamples(d.testSamples())
        .addAllClasses(d.classes());
    for (long dim : d.inputShape()) {
      builder.addInputShape(dim);
    }
    return builder.build();
  }

  static TrainingPlan fromProto(org.medfed.proto.v1.TrainingPlan p) {
    return new TrainingPlan(p.getModelConfigJson(), p.getParameterCount(),
        p.getInputShapeList().stream().mapToLong(Long::longValue).toArray(), p.getNumClasses(),
        p.getLocalEpochs(), p.getBatchSize(), p.getLearningRate(), p.getSeed(),
        p.getProximalMu(), p.getLocalSteps());
  }
}
