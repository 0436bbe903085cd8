package org.medfed.coordinator.approval;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.job.JobTerms;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.session.NodeRegistry;
import org.medfed.coordinator.session.NodeSession;
import org.medfed.proto.v1.ApprovalState;
import org.medfed.proto.v1.CoordinatorMessage;
import org.medfed.proto.v1.JobDecision;
import org.medfed.proto.v1.JobProposal;
import org.medfed.trust.audit.AuditLog;
import org.medfed.wire.JobDigest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which hospitals agreed to run which job. A running job is proposed to every connected hospital
 * holding its dataset (and to each that connects later); the agents answer with their operator's
 * decision, now or when it is made. Only hospitals that approved the job's digest are selected.
 * The agent enforces the same rule on every task it receives; this is the coordinator's view of it.
 */
public final class Approvals {
  private static final Logger log = LoggerFactory.getLogger(Approvals.class);

  /** A hospital's answer. */
  public record Decision(ApprovalState state, String reason) {}

  private record Open(Job job, JobProposal proposal) {}

  private final NodeRegistry nodes;
  private final AuditLog audit;
  private final Map<String, Open> open = new ConcurrentHashMap<>();
  private final Map<String, Map<String, Decision>> decisions = new ConcurrentHashMap<>();
  /** Session ids each job was proposed to: a reconnected agent gets the proposal again. */
  private final Map<String, Set<String>> proposedTo = new ConcurrentHashMap<>();

  public Approvals(NodeRegistry nodes, AuditLog audit) {
    this.nodes = nodes;
    this.audit = audit;
    nodes.onArrival(session -> open.values().forEach(o -> propose(o, session)));
  }

  /** Starts asking hospitals about {@code job}. */
  public void open(Job job, GlobalModel model) {
    JobProposal proposal = JobProposal.newBuilder().setJobId(job.id()).setJobName(job.spec().name())
        .setDigest(job.digest()).setDataset(job.spec().dataset()).setPlan(JobTerms.plan(job.spec(), model))
        .setPrivacy(JobTerms.privacy(job.spec())).setRounds(job.spec().rounds()).setSubmittedBy(job.submittedBy())
        .build();
    Open entry = new Open(job, proposal);
    open.put(job.id(), entry);
    decisions.putIfAbsent(job.id(), new ConcurrentHashMap<>());
    nodes.connected().forEach(session -> propose(entry, session));
  }

  /** Stops proposing {@code job}; its recorded decisions stay for the job's record. */
  public void close(String jobId) {
    open.remove(jobId);
    proposedTo.remove(jobId);
  }

  public boolean approved(String jobId, String nodeId) {
    Decision decision = decisions.getOrDefault(jobId, Map.of()).get(nodeId);
    return decision != null && decision.state() == ApprovalState.APPROVAL_APPROVED;
  }

  /** Whether the node answered the job's proposal at all (approved, rejected or pending). */
  public boolean answered(String jobId, String nodeId) {
    return decisions.getOrDefault(jobId, Map.of()).containsKey(nodeId);
  }

  /** Each answering hospital's decision on the job, by node id. */
  public Map<String, Decision> of(String jobId) {
    return new TreeMap<>(decisions.getOrDefault(jobId, Map.of()));
  }

  /** Hospitals among {@code candidates} that have not approved, with their state, for progress messages. */
  public List<String> notApproved(String jobId, List<NodeSession> candidates) {
    Map<String, Decision> known = decisions.getOrDefault(jobId, Map.of());
    return candidates.stream().filter(s -> !approved(jobId, s.nodeId()))
        .map(s -> s.nodeId() + " (" + Optional.ofNullable(known.get(s.nodeId()))
            .map(d -> d.state() == ApprovalState.APPROVAL_REJECTED ? "rejected: " + d.reason() : "awaiting approval")
            .orElse("no answer yet") + ")")
        .toList();
  }

  /** An agent's answer arrived. Answers about another digest than the job's are refused and logged. */
  public void decided(String nodeId, JobDecision decision) {
    Open entry = open.get(decision.getJobId());
    Map<String, Decision> forJob = decisions.get(decision.getJobId());
    if (forJob == null) {
      log.warn("node '{}' answered about unknown job '{}'; ignored", nodeId, decision.getJobId());
      return;
    }
    if (entry != null && !entry.job().digest().equals(decision.getDigest())) {
      log.warn("node '{}' answered about job '{}' with digest {} but the job's digest is {}; ignored", nodeId,
          decision.getJobId(), decision.getDigest(), entry.job().digest());
      return;
    }
    Decision previous = forJob.put(nodeId, new Decision(decision.getState(), decision.getReason()));
    if (previous == null || previous.state() != decision.getState()) {
      String state = stateName(decision.getState());
      audit.append("JOB_" + state.toUpperCase(), Map.of("job", decision.getJobId(), "node", nodeId,
          "digest", decision.getDigest(), "reason", decision.getReason()));
      if (entry != null) {
        entry.job().progress(0, "APPROVAL", "node '" + nodeId + "' " + state + " job digest "
            + JobDigest.shortForm(decision.getDigest())
            + (decision.getReason().isEmpty() ? "" : ": " + decision.getReason()), Map.of());
      }
      nodes.signal();
    }
  }

  public static String stateName(ApprovalState state) {
    return switch (state) {
      case APPROVAL_APPROVED -> "approved";
      case APPROVAL_REJECTED -> "rejected";
      case APPROVAL_PENDING -> "pending";
      default -> "unknown";
    };
  }

  private void propose(Open entry, NodeSession session) {
    boolean holds = session.datasets().stream().anyMatch(d -> d.getName().equals(entry.job().spec().dataset()));
    if (!holds || !proposedTo.computeIfAbsent(entry.job().id(), j -> ConcurrentHashMap.newKeySet())
        .add(session.sessionId())) {
      return;
    }
    session.send(CoordinatorMessage.newBuilder().setProposal(entry.proposal()).build());
  }
}
