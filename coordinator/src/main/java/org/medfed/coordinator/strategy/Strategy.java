package org.medfed.coordinator.strategy;

import java.util.Map;

/**
 * Decides the next global model from one round's updates. Pure apart from state a strategy keeps
 * for its own job (server momentum, adaptive moments): no I/O, no clocks, no threads. The round
 * state machine owns everything else; failed, rejected and masked updates never reach a strategy.
 *
 * <p>A strategy is one of two kinds: a {@link MeanRule} needs only the round's mean delta, which
 * secure aggregation can provide without the coordinator seeing any one hospital's update; a
 * {@link PerUpdateRule} (median, trimmed mean, Krum) needs each hospital's update and so only runs
 * on jobs without secure aggregation, which the job spec enforces.
 */
public sealed interface Strategy permits MeanRule, PerUpdateRule {

  Aggregate aggregate(int round, float[] globalParameters, RoundInput input);

  /**
   * Tensors of the model's length that every hospital receives with this round's training task, by
   * name (SCAFFOLD's server control variate, "server_control"); none for most strategies. The round
   * publishes them beside the global model; the training plan says which a hospital must fetch.
   */
  default Map<String, float[]> taskTensors(int round, float[] globalParameters) {
    return Map.of();
  }

  /** What the strategy carries between rounds, checkpointed beside the model so a resumed job goes on exactly. */
  default StrategyState state() {
    return StrategyState.NONE;
  }

  /** Takes back the {@link #state} of the checkpoint a job resumes from. */
  default void restore(StrategyState state) {
    state.expectNames(this);
  }
}
