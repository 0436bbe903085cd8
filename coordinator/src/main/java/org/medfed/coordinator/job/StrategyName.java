package org.medfed.coordinator.job;

/** Aggregation strategies a job can name; mapped to implementations in one registry. */
public enum StrategyName {
  /** Sample-weighted averaging (McMahan et al. 2017). */
  FEDAVG,
  /** FedAvg with server momentum (Hsu et al. 2019, arXiv 1909.06335), robust to label skew. */
  FEDAVGM
}
