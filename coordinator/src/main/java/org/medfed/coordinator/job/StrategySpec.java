package org.medfed.coordinator.job;

import java.util.Objects;

/**
 * The aggregation strategy a job asks for, with its server-side hyper-parameters.
 *
 * @param serverMomentum momentum on the averaged update (FedAvgM); 0 for plain FedAvg
 * @param serverLearningRate step size on the averaged update; 1 reproduces FedAvg
 */
public record StrategySpec(StrategyName name, double serverLearningRate, double serverMomentum) {
  public StrategySpec {
    Objects.requireNonNull(name, "name");
    if (!(serverLearningRate > 0 && serverLearningRate <= 10)) {
      throw new InvalidJobSpecException("strategy.server_learning_rate", "must be in (0, 10], got " + serverLearningRate);
    }
    if (!(serverMomentum >= 0 && serverMomentum < 1)) {
      throw new InvalidJobSpecException("strategy.server_momentum", "must be in [0, 1), got " + serverMomentum);
    }
    if (name == StrategyName.FEDAVG && (serverMomentum != 0 || serverLearningRate != 1)) {
      throw new InvalidJobSpecException("strategy", "fedavg takes no server_momentum or server_learning_rate; "
          + "use fedavgm for those");
    }
  }

  public static StrategySpec fedAvg() {
    return new StrategySpec(StrategyName.FEDAVG, 1, 0);
  }
}
