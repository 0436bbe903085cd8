package org.medfed.nodeagent.session;

import java.io.IOException;
import java.util.Optional;
import org.medfed.proto.v1.AuditHead;
import org.medfed.trust.audit.AuditLog;
import org.medfed.trust.audit.WitnessCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records in the hospital's own audit log each coordinator audit head a task carries, so that
 * `medfed audit verify --witness` can later show a coordinator log that was cut back or rewritten
 * before it. Only a head new to this agent is recorded, to keep the log small; the record is written
 * before the task is answered, so the coordinator cannot cut back what the task attested unseen.
 * Thread-safe.
 */
final class CoordinatorHeadWitness {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorHeadWitness.class);

  private final AuditLog audit;
  private Optional<AuditLog.Head> last;

  /** Continues from the newest head this agent's log already holds, so a restart records no duplicate. */
  CoordinatorHeadWitness(AuditLog audit) throws IOException {
    this.audit = audit;
    Optional<AuditLog.Head> newest = Optional.empty();
    for (AuditLog.Entry entry : AuditLog.read(audit.file())) {
      Optional<AuditLog.Head> head = WitnessCheck.witnessedHead(entry);
      if (head.isPresent()) {
        newest = head;
      }
    }
    this.last = newest;
  }

  /** Records {@code head} unless it is the one witnessed last; a task without one (seq 0) records nothing. */
  synchronized void witness(AuditHead head, String jobId, int round) {
    AuditLog.Head seen = new AuditLog.Head(head.getSeq(), head.getHash());
    if (seen.seq() <= 0 || last.equals(Optional.of(seen))) {
      return;
    }
    try {
      audit.append(WitnessCheck.RECORD_TYPE, WitnessCheck.details(seen, jobId, round));
      last = Optional.of(seen);
    } catch (IllegalStateException e) {
      // Called on the session's inbound thread, which must not die: the task's own TASK_ACCEPTED
      // record cannot be written either, so the task fails there with the reason.
      log.error("job {} round {}: could not witness the coordinator's audit head {}: {}", jobId, round, seen.seq(),
          e.getMessage());
    }
  }
}
