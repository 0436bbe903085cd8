package org.medfed.coordinator.strategy;

import org.medfed.coordinator.job.StrategySpec;

/** The registry from a job's strategy name to its implementation. */
public final class Strategies {
  private Strategies() {}

  /** A fresh strategy for one job; stateful strategies keep their state per instance. */
  public static Strategy create(StrategySpec spec) {
    return switch (spec.name()) {
      case FEDAVG -> new FedAvg();
      case FEDAVGM -> new FedAvgM(spec.serverLearningRate(), spec.serverMomentum());
    };
  }
}
