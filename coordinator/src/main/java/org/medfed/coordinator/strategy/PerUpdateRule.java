package org.medfed.coordinator.strategy;

import java.util.List;

/**
 * A strategy that looks at each hospital's update (a robust rule), so it cannot run under secure
 * aggregation, where the coordinator only ever sees the sum. The job spec refuses that combination;
 * reaching it here is a broken invariant, not a caller mistake.
 */
public non-sealed interface PerUpdateRule extends Strategy {

  /** @param updates each hospital's accepted update; at least one, all of the model's length */
  Aggregate aggregate(int round, float[] globalParameters, List<ClientUpdate> updates);

  @Override
  default Aggregate aggregate(int round, float[] globalParameters, RoundInput input) {
    if (input instanceof RoundInput.EachUpdate each) {
      return aggregate(round, globalParameters, each.updates());
    }
    throw new IllegalStateException(this + " needs each hospital's update, but the round has only the secure "
        + "aggregate; the job spec should have refused a robust rule with secure aggregation");
  }
}
