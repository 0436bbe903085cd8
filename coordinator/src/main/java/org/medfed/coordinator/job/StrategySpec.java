package org.medfed.coordinator.job;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * The aggregation strategy a job asks for, with its hyper-parameters: exactly those its
 * {@link StrategyName} takes, defaults filled in, each in range.
 *
 * @param parameters what the job gave; the record holds these plus the strategy's defaults
 */
public record StrategySpec(StrategyName name, Map<StrategyParameter, Double> parameters) {
  public StrategySpec {
    Objects.requireNonNull(name, "name");
    Map<StrategyParameter, Double> all = new EnumMap<>(StrategyParameter.class);
    all.putAll(name.defaults());
    parameters.forEach((parameter, value) -> {
      if (!name.takes().contains(parameter)) {
        throw new InvalidJobSpecException("strategy." + parameter.field(), name.label() + " does not take "
            + parameter.field() + "; strategies that do: " + Arrays.stream(StrategyName.values())
            .filter(s -> s.takes().contains(parameter)).map(StrategyName::label).toList());
      }
      all.put(parameter, parameter.check(value));
    });
    for (StrategyParameter parameter : name.takes()) {
      if (!all.containsKey(parameter)) {
        throw new InvalidJobSpecException("strategy." + parameter.field(), "missing; " + name.label()
            + " needs it, " + parameter.range());
      }
    }
    parameters = Collections.unmodifiableMap(all);
  }

  public static StrategySpec fedAvg() {
    return of(StrategyName.FEDAVG);
  }

  /** The strategy with its defaults. */
  public static StrategySpec of(StrategyName name) {
    return new StrategySpec(name, Map.of());
  }

  /** @throws IllegalArgumentException if the strategy does not take {@code parameter} */
  public double get(StrategyParameter parameter) {
    Double value = parameters.get(parameter);
    if (value == null) {
      throw new IllegalArgumentException(name.label() + " takes no " + parameter.field());
    }
    return value;
  }

  /** The μ hospitals add as a proximal term to their local loss; 0 unless the strategy is FedProx. */
  public double proximalMu() {
    return parameters.getOrDefault(StrategyParameter.PROXIMAL_MU, 0.0);
  }
}
