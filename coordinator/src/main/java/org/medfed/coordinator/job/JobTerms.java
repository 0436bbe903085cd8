package org.medfed.coordinator.job;

import org.medfed.coordinator.model.GlobalModel;
import org.medfed.proto.v1.PrivacySettings;
import org.medfed.proto.v1.TrainingPlan;
import org.medfed.wire.JobDigest;

/** What a job asks of a hospital, as the agent sees it: the training plan, the privacy settings, and their digest. */
public final class JobTerms {
  private JobTerms() {}

  public static TrainingPlan plan(JobSpec spec, GlobalModel model) {
    TrainingPlan.Builder plan = TrainingPlan.newBuilder()
        .setModelConfigJson(model.configJson())
        .setParameterCount(model.parameterCount())
        .setNumClasses(spec.numClasses())
        .setLocalEpochs(spec.localEpochs())
        .setBatchSize(spec.batchSize())
        .setLearningRate(spec.learningRate())
        .setLocalSteps(spec.localSteps())
        .setSeed(spec.seed())
        // 0 unless the strategy is FedProx: the agent adds no proximal term then.
        .setProximalMu(spec.strategy().proximalMu())
        .setLocalBaseline(spec.localBaseline())
        .setConsortiumZscore(spec.featureScaling() == FeatureScaling.CONSORTIUM_ZSCORE)
        .addAllExtraVectors(spec.strategy().name().extraVectors());
    for (long dim : spec.inputShape()) {
      plan.addInputShape(dim);
    }
    return plan.addAllFeatureNames(spec.features()).build();
  }

  public static PrivacySettings privacy(JobSpec spec) {
    SecureAggregationSpec secure = spec.secureAggregation();
    PrivacySettings.Builder privacy = PrivacySettings.newBuilder().setSecureAggregation(secure.enabled());
    if (secure.enabled()) {
      privacy.setClip(secure.clip()).setMaxSamplesPerNode(secure.maxSamplesPerNode())
          .setMaskingNeighbours(secure.neighbours());
    }
    spec.dpSgd().ifPresent(dp -> {
      privacy.setDpClip(dp.clip()).setDpDelta(dp.delta()).setDpRounds(spec.rounds());
      dp.noiseMultiplier().ifPresent(privacy::setDpNoiseMultiplier);
      dp.targetEpsilon().ifPresent(privacy::setDpTargetEpsilon);
    });
    return privacy.build();
  }

  /** The digest hospitals approve; the model only contributes its architecture, never its weights. */
  public static String digest(JobSpec spec, GlobalModel model) {
    return JobDigest.of(spec.dataset(), plan(spec, model), privacy(spec));
  }
}
