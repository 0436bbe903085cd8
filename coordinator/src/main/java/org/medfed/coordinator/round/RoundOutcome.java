package org.medfed.coordinator.round;

import org.medfed.coordinator.job.RoundRecord;
import org.medfed.coordinator.model.GlobalModel;

/** How a round ended. */
public sealed interface RoundOutcome {

  record Completed(GlobalModel model, RoundRecord record) implements RoundOutcome {}

  /** The round could not complete; {@code reason} names the nodes and deadlines involved. */
  record Failed(String reason) implements RoundOutcome {}

  record Cancelled(String reason) implements RoundOutcome {}
}
