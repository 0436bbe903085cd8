package org.medfed.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.medfed.proto.v1.PrivacySettings;
import org.medfed.proto.v1.TrainingPlan;

/**
 * Digests hospitals have already approved must stay valid: these vectors were computed with the
 * hand-written encoding before any field was appended generically, and must never change.
 */
class JobDigestTest {
  static TrainingPlan knownPlan() {
    return TrainingPlan.newBuilder().setModelConfigJson("{\"confs\":[]}").setParameterCount(6)
        .addInputShape(2).addInputShape(3).setNumClasses(2).setLocalEpochs(5).setBatchSize(20)
        .setLearningRate(0.05).setSeed(3).addFeatureNames("BRCA1").addFeatureNames("TP53").build();
  }

  static PrivacySettings knownPrivacy() {
    return PrivacySettings.newBuilder().setSecureAggregation(true).setClip(1.5).setMaxSamplesPerNode(1000)
        .setMaskingNeighbours(4).build();
  }

  @Test
  void of_aPlanApprovedBeforeGenericFields_keepsItsDigest() {
    assertEquals("438677667705c1d51508d7f205d380b863a44ecc7226eec13a2461c1ac30cac7",
        JobDigest.of("tcga-brca", knownPlan(), knownPrivacy()));
  }

  @Test
  void of_aCompleteGraphPlanWithoutFeatures_keepsItsDigest() {
    TrainingPlan plan = knownPlan().toBuilder().clearFeatureNames().build();
    PrivacySettings privacy = knownPrivacy().toBuilder().setMaskingNeighbours(0).build();

    assertEquals("e8ab359c721912ac402e77af9f6226d8f44a57eeb487dd69a617365b2342b290",
        JobDigest.of("scans", plan, privacy));
  }
}
