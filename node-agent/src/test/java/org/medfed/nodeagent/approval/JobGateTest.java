package org.medfed.nodeagent.approval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.proto.v1.JobProposal;
import org.medfed.proto.v1.PrivacySettings;
import org.medfed.proto.v1.SecAggSetup;
import org.medfed.proto.v1.TrainTask;
import org.medfed.proto.v1.TrainingPlan;
import org.medfed.trust.audit.AuditLog;
import org.medfed.wire.JobDigest;

/** A coordinator cannot weaken the masking a hospital approved by sending a sparser SecAgg+ graph. */
class JobGateTest {
  @TempDir Path dir;

  private TrainTask task(int approvedNeighbours, int setupNeighbours) {
    PrivacySettings privacy = PrivacySettings.newBuilder().setSecureAggregation(true).setClip(1.0)
        .setMaxSamplesPerNode(1000).setMaskingNeighbours(approvedNeighbours).build();
    return TrainTask.newBuilder().setTaskId("t").setJobId("job").setRound(1).setDataset("scans")
        .setPlan(TrainingPlan.newBuilder().setModelConfigJson("{}").setParameterCount(10).setNumClasses(2))
        .setPrivacy(privacy)
        .setSecureAggregation(SecAggSetup.newBuilder().setClip(1.0).setMaxSamplesPerNode(1000)
            .setNeighbours(setupNeighbours).setGraphSeed(7))
        .build();
  }

  @Test
  void aSparserGraphThanApproved_isRefused_whileEveryPairMaskingAlwaysIsAllowed() throws Exception {
    try (AuditLog audit = AuditLog.open(dir.resolve("audit.log"), Clock.systemUTC())) {
      JobGate gate = new JobGate(new ApprovalStore(dir), audit, true, "medfed-agent approve");

      Optional<String> sparser = gate.refusal(task(0, 2));
      assertTrue(sparser.isPresent() && sparser.get().contains("contradicts"), String.valueOf(sparser));
      Optional<String> otherDegree = gate.refusal(task(6, 4));
      assertTrue(otherDegree.isPresent(), "4 neighbours when 6 were approved");

      // With the job approved (here automatically), the approved degree and the complete graph run.
      TrainTask approved = task(6, 6);
      gate.answer(JobProposal.newBuilder().setJobId("job").setDataset("scans").setPlan(approved.getPlan())
          .setPrivacy(approved.getPrivacy()).setDigest(JobDigest.of("scans", approved.getPlan(), approved.getPrivacy()))
          .build());
      assertEquals(Optional.empty(), gate.refusal(approved));
      assertEquals(Optional.empty(), gate.refusal(task(6, 0)), "the complete graph is never weaker");
    }
  }

  @Test
  void aTaskWhosePlanDiffersOnlyInProximalMu_isRefused_becauseTheDigestIsRecomputedFromTheTask() throws Exception {
    try (AuditLog audit = AuditLog.open(dir.resolve("audit.log"), Clock.systemUTC())) {
      JobGate gate = new JobGate(new ApprovalStore(dir), audit, true, "medfed-agent approve");
      TrainTask approved = task(6, 6);
      gate.answer(JobProposal.newBuilder().setJobId("job").setDataset("scans").setPlan(approved.getPlan())
          .setPrivacy(approved.getPrivacy()).setDigest(JobDigest.of("scans", approved.getPlan(), approved.getPrivacy()))
          .build());

      TrainTask withMu = approved.toBuilder().setPlan(approved.getPlan().toBuilder().setProximalMu(0.01)).build();
      Optional<String> refusal = gate.refusal(withMu);

      assertTrue(refusal.isPresent() && refusal.get().contains("is not approved"), String.valueOf(refusal));
      assertEquals(Optional.empty(), gate.refusal(approved));
    }
  }

  @Test
  void planSummary_showsProximalMuOnlyWhenSet() {
    TrainingPlan plan = TrainingPlan.newBuilder().setLocalEpochs(2).setBatchSize(16).setLearningRate(0.1).build();

    assertEquals("2 local epoch(s), batch 16, learning rate 0.1", JobGate.planSummary(plan));
    assertEquals("2 local epoch(s), batch 16, learning rate 0.1, FedProx mu 0.01",
        JobGate.planSummary(plan.toBuilder().setProximalMu(0.01).build()));
  }

  @Test
  void privacySummary_showsTheEpsilonAJobWouldSpendOnThisHospitalsRecords_beforeApproval() {
    TrainingPlan plan = TrainingPlan.newBuilder().setLocalEpochs(1).setBatchSize(10).build();
    PrivacySettings dp = PrivacySettings.newBuilder().setSecureAggregation(true).setClip(1.0).setMaxSamplesPerNode(1000)
        .setDpClip(1.0).setDpTargetEpsilon(3.0).setDpDelta(1e-5).setDpRounds(3).build();

    String summary = JobGate.privacySummary(dp, plan, 3, 120);

    // 120 records, batch 10: q = 1/12 and 12 steps a round; the noise is calibrated to spend 3 over 3 rounds.
    assertTrue(summary.contains("; DP-SGD with clip 1.0 and noise multiplier 1.2"), summary);
    assertTrue(summary.contains("its 3 rounds would spend epsilon 3.000 at delta 1e-05 on these 120 records")
        || summary.contains("its 3 rounds would spend epsilon 2.99"), summary);
    assertTrue(JobGate.privacySummary(dp.toBuilder().setDpClip(0).build(), plan, 3, 120)
        .endsWith("; no differential privacy"));
  }
}
