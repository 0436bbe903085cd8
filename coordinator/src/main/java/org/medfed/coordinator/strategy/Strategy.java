package org.medfed.coordinator.strategy;

import java.util.List;

/**
 * Decides the next global model from one round's accepted updates. Pure: no I/O, no clocks, no
 * threads; the round state machine owns everything else. Failed and rejected nodes never reach
 * a strategy.
 */
public interface Strategy {

  Aggregate aggregate(int round, float[] globalParameters, List<ClientUpdate> updates);
}
