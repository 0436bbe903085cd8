package org.medfed.coordinator.job;

/** Aggregation strategies a job can name; mapped to implementations in one registry. */
public enum StrategyName {
  FEDAVG
}
