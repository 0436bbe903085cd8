package org.medfed.coordinator.job;

import static org.medfed.coordinator.job.StrategyParameter.BETA1;
import static org.medfed.coordinator.job.StrategyParameter.BETA2;
import static org.medfed.coordinator.job.StrategyParameter.BYZANTINE;
import static org.medfed.coordinator.job.StrategyParameter.PROXIMAL_MU;
import static org.medfed.coordinator.job.StrategyParameter.SELECTED;
import static org.medfed.coordinator.job.StrategyParameter.SERVER_LEARNING_RATE;
import static org.medfed.coordinator.job.StrategyParameter.SERVER_MOMENTUM;
import static org.medfed.coordinator.job.StrategyParameter.TAU;
import static org.medfed.coordinator.job.StrategyParameter.TRIM_FRACTION;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.medfed.wire.UpdateLayout;

/**
 * Aggregation strategies a job can name, each with the {@link StrategyParameter}s it takes and their
 * defaults (a parameter it takes without a default must be given); mapped to implementations in one
 * registry. docs/strategies.md explains the defaults.
 */
public enum StrategyName {
  /** Sample-weighted averaging (McMahan et al. 2017, arXiv 1602.05629). */
  FEDAVG(Kind.MEAN, Map.of()),
  /** FedAvg with server momentum (Hsu et al. 2019, arXiv 1909.06335), robust to label skew. */
  FEDAVGM(Kind.MEAN, Map.of(SERVER_LEARNING_RATE, 1.0, SERVER_MOMENTUM, 0.9)),
  /** Adaptive federated optimisation (Reddi et al. 2021, arXiv 2003.00295), Adagrad on the server. */
  FEDADAGRAD(Kind.MEAN, Map.of(SERVER_LEARNING_RATE, 0.1, BETA1, 0.9, TAU, 1e-3)),
  /** Reddi et al. 2021, Adam on the server. */
  FEDADAM(Kind.MEAN, Map.of(SERVER_LEARNING_RATE, 0.1, BETA1, 0.9, BETA2, 0.99, TAU, 1e-3)),
  /** Reddi et al. 2021, Yogi on the server. */
  FEDYOGI(Kind.MEAN, Map.of(SERVER_LEARNING_RATE, 0.1, BETA1, 0.9, BETA2, 0.99, TAU, 1e-3)),
  /**
   * FedProx (Li et al. 2020, arXiv 1812.06127): FedAvg on the server; each hospital adds
   * {@code mu/2 * ||w - w_global||^2} to its local loss, μ travelling in the training plan.
   */
  FEDPROX(Kind.MEAN, Map.of(PROXIMAL_MU, 0.01)),
  /**
   * SCAFFOLD (Karimireddy et al. 2020, arXiv 1910.06378, option II): each hospital corrects its local
   * gradients by the server's control variate minus its own and sends the change of its own,
   * "control_delta", in the same secure sum as its delta. Server learning rate 1, as FLamby's.
   */
  SCAFFOLD(Kind.MEAN, Map.of(SERVER_LEARNING_RATE, 1.0), List.of(UpdateLayout.CONTROL_DELTA)),
  /** Coordinate-wise median of the updates (Yin et al. 2018, arXiv 1803.01498). */
  FEDMEDIAN(Kind.EACH_UPDATE, Map.of()),
  /** Coordinate-wise trimmed mean (Yin et al. 2018), as Flower's FedTrimmedAvg (β 0.2). */
  FEDTRIMMEDAVG(Kind.EACH_UPDATE, Map.of(TRIM_FRACTION, 0.2)),
  /** Krum (Blanchard et al. 2017): the update closest to its n−f−2 nearest others. */
  KRUM(Kind.EACH_UPDATE, Map.of(), BYZANTINE),
  /** Multi-Krum (Blanchard et al. 2017): the sample-weighted mean of the m best-scored updates. */
  MULTIKRUM(Kind.EACH_UPDATE, Map.of(), BYZANTINE, SELECTED);

  /** What a strategy needs from a round; robust rules need each update, so not secure aggregation. */
  enum Kind { MEAN, EACH_UPDATE }

  private final Kind kind;
  private final Map<StrategyParameter, Double> defaults;
  private final Set<StrategyParameter> takes;
  private final List<String> extraVectors;

  StrategyName(Kind kind, Map<StrategyParameter, Double> defaults, StrategyParameter... required) {
    this(kind, defaults, List.of(), required);
  }

  StrategyName(Kind kind, Map<StrategyParameter, Double> defaults, List<String> extraVectors,
      StrategyParameter... required) {
    this.kind = kind;
    this.extraVectors = List.copyOf(extraVectors);
    this.defaults = defaults.isEmpty() ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(defaults));
    EnumSet<StrategyParameter> takes = EnumSet.noneOf(StrategyParameter.class);
    takes.addAll(defaults.keySet());
    takes.addAll(Arrays.asList(required));
    this.takes = Collections.unmodifiableSet(takes);
  }

  /** As written in a job document. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether the rule looks at each hospital's update, which secure aggregation never shows the coordinator. */
  public boolean needsEachUpdate() {
    return kind == Kind.EACH_UPDATE;
  }

  /**
   * The vectors each hospital sends beside its delta for this strategy, in the training plan (so
   * the hospitals' approval covers them) and the update's layout ({@link UpdateLayout}).
   */
  public List<String> extraVectors() {
    return extraVectors;
  }

  public Set<StrategyParameter> takes() {
    return takes;
  }

  Map<StrategyParameter, Double> defaults() {
    return defaults;
  }
}
