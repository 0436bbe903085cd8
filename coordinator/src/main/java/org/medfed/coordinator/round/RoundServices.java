package org.medfed.coordinator.round;

import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Optional;
import org.medfed.coordinator.approval.Approvals;
import org.medfed.coordinator.session.ModelPublisher;
import org.medfed.coordinator.session.NodeRegistry;
import org.medfed.coordinator.session.TaskBoard;
import org.medfed.coordinator.store.CheckpointStore;
import org.medfed.proto.v1.AuditHead;
import org.medfed.trust.audit.AuditLog;

/**
 * The coordinator services a round uses, gathered so the state machine's constructor stays short.
 *
 * @param consortiumCa the CA of the hospitals' certificates; empty in plaintext mode
 * @param schedule which rounds, across all jobs, hold which hospitals
 */
public record RoundServices(NodeRegistry nodes, TaskBoard tasks, ModelPublisher models, CheckpointStore checkpoints,
    Approvals approvals, AuditLog audit, Clock clock, Optional<X509Certificate> consortiumCa,
    HospitalSchedule schedule) {

  /**
   * The audit chain's newest record, as every task carries it: each hospital records the heads it
   * sees, so a log cut back or rewritten before them is caught later by their witness logs.
   */
  AuditHead auditHead() {
    AuditLog.Head head = audit.head();
    return AuditHead.newBuilder().setSeq(head.seq()).setHash(head.hash()).build();
  }
}
