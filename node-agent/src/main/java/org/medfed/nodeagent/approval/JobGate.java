package org.medfed.nodeagent.approval;

import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToIntFunction;
import org.medfed.nodeagent.privacy.HospitalPrivacy;
import org.medfed.proto.v1.ApprovalState;
import org.medfed.proto.v1.JobDecision;
import org.medfed.proto.v1.JobProposal;
import org.medfed.proto.v1.PrivacySettings;
import org.medfed.proto.v1.TrainTask;
import org.medfed.proto.v1.TrainingPlan;
import org.medfed.trust.audit.AuditLog;
import org.medfed.wire.JobDigest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hospital's say in which jobs run. A proposal is answered from the operator's decisions
 * (or approved at once when the agent is configured to auto-approve), and every task is checked
 * again before it touches data: its digest, recomputed here from the plan and privacy settings it
 * carries, must be approved. The coordinator is never trusted on what the digest is.
 */
public final class JobGate {
  private static final Logger log = LoggerFactory.getLogger(JobGate.class);

  private final ApprovalStore store;
  private final AuditLog audit;
  private final boolean autoApprove;
  private final String approveCommand;
  private final ToIntFunction<String> recordsOf;

  /** @param approveCommand the command an operator runs, without the digest, e.g. "medfed-agent approve --config agent.yaml" */
  public JobGate(ApprovalStore store, AuditLog audit, boolean autoApprove, String approveCommand) {
    this(store, audit, autoApprove, approveCommand, dataset -> 0);
  }

  /**
   * @param recordsOf a dataset's training records (0 when unknown), from which the operator is shown
   *     the privacy a DP job would spend here before approving it
   */
  public JobGate(ApprovalStore store, AuditLog audit, boolean autoApprove, String approveCommand,
      ToIntFunction<String> recordsOf) {
    this.recordsOf = recordsOf;
    this.store = store;
    this.audit = audit;
    this.autoApprove = autoApprove;
    this.approveCommand = approveCommand;
  }

  /** Answers a proposal, recording it as pending when the operator has not decided yet. */
  public JobDecision answer(JobProposal proposal) {
    String digest = JobDigest.of(proposal.getDataset(), proposal.getPlan(), proposal.getPrivacy());
    JobDecision.Builder answer = JobDecision.newBuilder().setJobId(proposal.getJobId()).setDigest(digest);
    if (!digest.equals(proposal.getDigest())) {
      String why = "the proposal claims digest " + proposal.getDigest() + " but its contents hash to " + digest;
      audit.append("JOB_PROPOSAL_REFUSED", Map.of("job", proposal.getJobId(), "digest", digest, "reason", why));
      log.error("job {}: {}; refused", proposal.getJobId(), why);
      return answer.setDigest(proposal.getDigest()).setState(ApprovalState.APPROVAL_REJECTED).setReason(why).build();
    }
    audit.append("JOB_PROPOSED", Map.of("job", proposal.getJobId(), "name", proposal.getJobName(), "digest", digest,
        "dataset", proposal.getDataset(), "submitted_by", proposal.getSubmittedBy()));
    Optional<ApprovalStore.Decision> decided = store.decision(digest);
    if (decided.isEmpty() && autoApprove) {
      store.decide(digest, ApprovalStore.Verdict.APPROVED, "auto_approve_jobs", "approved automatically by configuration");
      audit.append("JOB_APPROVED", Map.of("job", proposal.getJobId(), "digest", digest, "by", "auto_approve_jobs"));
      log.warn("job {} (digest {}) approved automatically: auto_approve_jobs is on", proposal.getJobId(),
          JobDigest.shortForm(digest));
      decided = store.decision(digest);
    }
    if (decided.isEmpty()) {
      store.addPending(new ApprovalStore.Pending(digest, proposal.getJobId(), proposal.getJobName(),
          proposal.getDataset(), proposal.getSubmittedBy(), proposal.getRounds(), modelSummary(proposal.getPlan()),
          planSummary(proposal.getPlan()), privacySummary(proposal.getPrivacy(), proposal.getPlan(),
              proposal.getRounds(), recordsOf.applyAsInt(proposal.getDataset())), Instant.now().toString()));
      log.warn("job '{}' ({}) asks to train on dataset '{}' and awaits your approval: {} {}", proposal.getJobName(),
          proposal.getJobId(), proposal.getDataset(), approveCommand, digest);
      audit.append("JOB_REFUSED", Map.of("job", proposal.getJobId(), "digest", digest,
          "reason", "digest not approved by this hospital's operator (pending)"));
      return answer.setState(ApprovalState.APPROVAL_PENDING).setReason("awaiting the hospital operator: "
          + approveCommand + " " + digest).build();
    }
    JobDecision result = toAnswer(answer, decided.get());
    audit.append(result.getState() == ApprovalState.APPROVAL_APPROVED ? "JOB_ACCEPTED" : "JOB_REFUSED",
        Map.of("job", proposal.getJobId(), "digest", digest, "reason", result.getReason()));
    return result;
  }

  /** The operator's answer for a digest that was pending, once there is one; audited as it is announced. */
  public Optional<JobDecision> decided(String jobId, String digest) {
    return store.decision(digest).map(d -> {
      JobDecision answer = toAnswer(JobDecision.newBuilder().setJobId(jobId).setDigest(digest), d);
      audit.append(answer.getState() == ApprovalState.APPROVAL_APPROVED ? "JOB_ACCEPTED" : "JOB_REFUSED",
          Map.of("job", jobId, "digest", digest, "reason", answer.getReason()));
      return answer;
    });
  }

  /**
   * Why a training task may not run, if it may not: its privacy settings contradict the
   * secure-aggregation setup it carries, or its digest is not approved here.
   */
  public Optional<String> refusal(TrainTask task) {
    PrivacySettings privacy = task.getPrivacy();
    if (task.hasSecureAggregation() != privacy.getSecureAggregation()
        || task.hasSecureAggregation() && (task.getSecureAggregation().getClip() != privacy.getClip()
            || task.getSecureAggregation().getMaxSamplesPerNode() != privacy.getMaxSamplesPerNode()
            // The complete graph is always allowed; a sparser one only with the approved degree.
            || task.getSecureAggregation().getNeighbours() != 0
                && task.getSecureAggregation().getNeighbours() != privacy.getMaskingNeighbours())) {
      return refuse(task.getJobId(), task.getRound(), "",
          "the task's secure-aggregation setup contradicts the privacy settings it claims");
    }
    return refusal(task.getJobId(), task.getRound(), task.getDataset(), task.getPlan(), privacy);
  }

  /** Why a task may not run, if it may not: its digest is not approved here. Refusals are audited. */
  public Optional<String> refusal(String jobId, int round, String dataset, TrainingPlan plan, PrivacySettings privacy) {
    String digest = JobDigest.of(dataset, plan, privacy);
    Optional<ApprovalStore.Decision> decision = store.decision(digest);
    if (decision.isEmpty()) {
      return refuse(jobId, round, digest, "job digest " + digest + " is not approved at this hospital; to run it: "
          + approveCommand + " " + digest);
    }
    if (decision.get().verdict() == ApprovalStore.Verdict.REJECTED) {
      return refuse(jobId, round, digest, "job digest " + digest + " was rejected at this hospital by "
          + decision.get().by() + (decision.get().reason().isEmpty() ? "" : ": " + decision.get().reason()));
    }
    audit.append("TASK_ACCEPTED", Map.of("job", jobId, "round", round, "digest", digest));
    return Optional.empty();
  }

  private Optional<String> refuse(String jobId, int round, String digest, String why) {
    audit.append("TASK_REFUSED", Map.of("job", jobId, "round", round, "digest", digest, "reason", why));
    log.warn("job {} round {}: refused: {}", jobId, round, why);
    return Optional.of(why);
  }

  private static JobDecision toAnswer(JobDecision.Builder answer, ApprovalStore.Decision decision) {
    return decision.verdict() == ApprovalStore.Verdict.APPROVED
        ? answer.setState(ApprovalState.APPROVAL_APPROVED).setReason("approved by " + decision.by()).build()
        : answer.setState(ApprovalState.APPROVAL_REJECTED).setReason("rejected by " + decision.by()
            + (decision.reason().isEmpty() ? "" : ": " + decision.reason())).build();
  }

  static String modelSummary(TrainingPlan plan) {
    return plan.getParameterCount() + " parameters, input " + plan.getInputShapeList() + ", " + plan.getNumClasses()
        + " classes";
  }

  static String planSummary(TrainingPlan plan) {
    return plan.getLocalEpochs() + " local epoch(s), batch " + plan.getBatchSize() + ", learning rate "
        + plan.getLearningRate() + (plan.getProximalMu() == 0 ? "" : ", FedProx mu " + plan.getProximalMu())
        + (plan.getLocalBaseline() ? ", plus a local-only baseline model trained here with the same budget (it never"
            + " leaves; its test metrics are reported)" : "");
  }

  /** The secure-aggregation summary, and for a DP job the noise and the ε its rounds would spend here. */
  static String privacySummary(PrivacySettings privacy, TrainingPlan plan, int rounds, int records) {
    if (privacy.getDpClip() == 0) {
      return privacySummary(privacy) + "; no differential privacy";
    }
    if (records < 1) {
      return privacySummary(privacy) + "; DP-SGD with clip " + privacy.getDpClip() + " (epsilon here unknown: no"
          + " training records loaded for this dataset)";
    }
    try {
      HospitalPrivacy dp = HospitalPrivacy.of(privacy, plan, records).orElseThrow();
      return privacySummary(privacy) + String.format(Locale.ROOT, "; DP-SGD with clip %s and noise multiplier"
          + " %.3f (%s): its %d rounds would spend epsilon %.3f at delta %.0e on these %d records",
          privacy.getDpClip(), dp.settings().noiseMultiplier(), dp.derived(), rounds, dp.jobEpsilon(rounds),
          dp.delta(), records);
    } catch (IllegalArgumentException e) {
      return privacySummary(privacy) + "; DP-SGD that cannot run here: " + e.getMessage();
    }
  }

  static String privacySummary(PrivacySettings privacy) {
    return privacy.getSecureAggregation()
        ? "secure aggregation on (clip " + privacy.getClip() + ", max samples per node " + privacy.getMaxSamplesPerNode()
            + (privacy.getMaskingNeighbours() == 0 ? ", every pair masks"
                : ", SecAgg+ with " + privacy.getMaskingNeighbours() + " neighbours each") + ")"
        : "secure aggregation OFF: the coordinator sees this hospital's update";
  }
}
