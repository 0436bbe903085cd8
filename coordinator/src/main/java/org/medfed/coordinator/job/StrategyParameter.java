package org.medfed.coordinator.job;

import java.util.Locale;
import java.util.function.DoublePredicate;

/**
 * The fields a job's {@code strategy:} mapping can hold beside its name, each declared once with its
 * valid range. Which strategy takes which, and the defaults, are declared on {@link StrategyName}.
 */
public enum StrategyParameter {
  /** η, the server's step on the aggregated update; 1 with FedAvgM and no momentum reproduces FedAvg. */
  SERVER_LEARNING_RATE("in (0, 10]", v -> v > 0 && v <= 10),
  /** FedAvgM's momentum on the averaged update. */
  SERVER_MOMENTUM("in [0, 1)", v -> v >= 0 && v < 1),
  /** FedOpt's decay of the first moment m. */
  BETA1("in [0, 1)", v -> v >= 0 && v < 1),
  /** FedAdam's and FedYogi's decay of the second moment v. */
  BETA2("in [0, 1)", v -> v >= 0 && v < 1),
  /** FedOpt's adaptivity: how far a coordinate with a small second moment may step. */
  TAU("> 0", v -> v > 0),
  /** FedProx's μ, the weight of the proximal term each hospital adds to its local loss. */
  PROXIMAL_MU("> 0 (fedprox with mu 0 is fedavg)", v -> v > 0),
  /** FedTrimmedAvg's β: the share of the smallest and of the largest values dropped per coordinate. */
  TRIM_FRACTION("in [0, 0.5)", v -> v >= 0 && v < 0.5),
  /** Krum's f: how many hospitals may send arbitrary updates. */
  BYZANTINE("an integer >= 0", v -> v >= 0 && v == Math.rint(v) && v <= Integer.MAX_VALUE),
  /** Multi-Krum's m: how many of the lowest-scored updates are averaged. */
  SELECTED("an integer >= 1", v -> v >= 1 && v == Math.rint(v) && v <= Integer.MAX_VALUE);

  private final String range;
  private final DoublePredicate valid;

  StrategyParameter(String range, DoublePredicate valid) {
    this.range = range;
    this.valid = valid;
  }

  /** The name under {@code strategy:} in a job document. */
  public String field() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The valid values, as an error message states them. */
  String range() {
    return range;
  }

  boolean integral() {
    return this == BYZANTINE || this == SELECTED;
  }

  boolean accepts(double value) {
    return Double.isFinite(value) && valid.test(value);
  }

  /** @throws InvalidJobSpecException naming {@code strategy.<field>} when the value is out of range */
  double check(double value) {
    return JobSchema.STRATEGY_PARAMETERS.get(this).check(value);
  }
}
