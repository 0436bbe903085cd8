package org.medfed.coordinator.round;

import java.time.Clock;
import org.medfed.coordinator.approval.Approvals;
import org.medfed.coordinator.session.ModelPublisher;
import org.medfed.coordinator.session.NodeRegistry;
import org.medfed.coordinator.session.TaskBoard;
import org.medfed.coordinator.store.CheckpointStore;
import org.medfed.trust.audit.AuditLog;

/** The coordinator services a round uses, gathered so the state machine's constructor stays short. */
public record RoundServices(NodeRegistry nodes, TaskBoard tasks, ModelPublisher models, CheckpointStore checkpoints,
    Approvals approvals, AuditLog audit, Clock clock) {}
