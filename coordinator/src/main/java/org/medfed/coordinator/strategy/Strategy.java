package org.medfed.coordinator.strategy;

import java.util.Optional;

/**
 * Decides the next global model from one round's combined update. Pure apart from state a
 * strategy keeps for its own job (server momentum): no I/O, no clocks, no threads. The round state
 * machine owns everything else; failed, rejected and masked updates never reach a strategy.
 */
public interface Strategy {

  Aggregate aggregate(int round, float[] globalParameters, RoundUpdate update);

  /** What the strategy carries between rounds, checkpointed beside the model so a resumed job goes on exactly. */
  default Optional<double[]> state() {
    return Optional.empty();
  }

  /** Takes back the {@link #state} of the checkpoint a job resumes from. */
  default void restore(double[] state) {
    throw new IllegalArgumentException(this + " keeps no state between rounds, but the checkpoint holds "
        + state.length + " values of it; was the job's strategy changed?");
  }
}
