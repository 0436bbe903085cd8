package org.medfed.coordinator.job;

import static org.medfed.coordinator.job.StrategyParameter.BETA1;
import static org.medfed.coordinator.job.StrategyParameter.BETA2;
import static org.medfed.coordinator.job.StrategyParameter.PROXIMAL_MU;
import static org.medfed.coordinator.job.StrategyParameter.SERVER_LEARNING_RATE;
import static org.medfed.coordinator.job.StrategyParameter.SERVER_MOMENTUM;
import static org.medfed.coordinator.job.StrategyParameter.TAU;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Aggregation strategies a job can name, each with the {@link StrategyParameter}s it takes and their
 * defaults; mapped to implementations in one registry. docs/strategies.md explains the defaults.
 */
public enum StrategyName {
  /** Sample-weighted averaging (McMahan et al. 2017, arXiv 1602.05629). */
  FEDAVG(Map.of()),
  /** FedAvg with server momentum (Hsu et al. 2019, arXiv 1909.06335), robust to label skew. */
  FEDAVGM(Map.of(SERVER_LEARNING_RATE, 1.0, SERVER_MOMENTUM, 0.9)),
  /** Adaptive federated optimisation (Reddi et al. 2021, arXiv 2003.00295), Adagrad on the server. */
  FEDADAGRAD(Map.of(SERVER_LEARNING_RATE, 0.1, BETA1, 0.9, TAU, 1e-3)),
  /** Reddi et al. 2021, Adam on the server. */
  FEDADAM(Map.of(SERVER_LEARNING_RATE, 0.1, BETA1, 0.9, BETA2, 0.99, TAU, 1e-3)),
  /** Reddi et al. 2021, Yogi on the server. */
  FEDYOGI(Map.of(SERVER_LEARNING_RATE, 0.1, BETA1, 0.9, BETA2, 0.99, TAU, 1e-3)),
  /**
   * FedProx (Li et al. 2020, arXiv 1812.06127): FedAvg on the server; each hospital adds
   * {@code mu/2 * ||w - w_global||^2} to its local loss, μ travelling in the training plan.
   */
  FEDPROX(Map.of(PROXIMAL_MU, 0.01));

  private final Map<StrategyParameter, Double> defaults;
  private final Set<StrategyParameter> takes;

  StrategyName(Map<StrategyParameter, Double> defaults) {
    this.defaults = defaults.isEmpty() ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(defaults));
    EnumSet<StrategyParameter> takes = EnumSet.noneOf(StrategyParameter.class);
    takes.addAll(defaults.keySet());
    this.takes = Collections.unmodifiableSet(takes);
  }

  /** As written in a job document. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public Set<StrategyParameter> takes() {
    return takes;
  }

  Map<StrategyParameter, Double> defaults() {
    return defaults;
  }
}
