package org.medfed.coordinator.strategy;

import org.medfed.coordinator.job.StrategyName;

/** The registry from a job's strategy name to its implementation. */
public final class Strategies {
  private Strategies() {}

  public static Strategy forName(StrategyName name) {
    return switch (name) {
      case FEDAVG -> new FedAvg();
    };
  }
}
