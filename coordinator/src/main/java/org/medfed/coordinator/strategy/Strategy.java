package org.medfed.coordinator.strategy;

/**
 * Decides the next global model from one round's combined update. Pure apart from state a
 * strategy keeps for its own job (server momentum): no I/O, no clocks, no threads. The round state
 * machine owns everything else; failed, rejected and masked updates never reach a strategy.
 */
public interface Strategy {

  Aggregate aggregate(int round, float[] globalParameters, RoundUpdate update);
}
