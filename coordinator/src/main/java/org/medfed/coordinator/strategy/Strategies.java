package org.medfed.coordinator.strategy;

import static org.medfed.coordinator.job.StrategyParameter.BETA1;
import static org.medfed.coordinator.job.StrategyParameter.BETA2;
import static org.medfed.coordinator.job.StrategyParameter.BYZANTINE;
import static org.medfed.coordinator.job.StrategyParameter.SELECTED;
import static org.medfed.coordinator.job.StrategyParameter.SERVER_LEARNING_RATE;
import static org.medfed.coordinator.job.StrategyParameter.SERVER_MOMENTUM;
import static org.medfed.coordinator.job.StrategyParameter.TAU;
import static org.medfed.coordinator.job.StrategyParameter.TRIM_FRACTION;

import org.medfed.coordinator.job.StrategySpec;

/** The registry from a job's strategy name to its implementation. */
public final class Strategies {
  private Strategies() {}

  /** A fresh strategy for one job; stateful strategies keep their state per instance. */
  public static Strategy create(StrategySpec spec) {
    return switch (spec.name()) {
      // FedProx differs from FedAvg only on the hospitals, by the proximal term in the training plan.
      case FEDAVG, FEDPROX -> new FedAvg();
      case FEDAVGM -> new FedAvgM(spec.get(SERVER_LEARNING_RATE), spec.get(SERVER_MOMENTUM));
      case FEDADAGRAD -> fedOpt(FedOpt.SecondMoment.ADAGRAD, spec, 0);
      case FEDADAM -> fedOpt(FedOpt.SecondMoment.ADAM, spec, spec.get(BETA2));
      case FEDYOGI -> fedOpt(FedOpt.SecondMoment.YOGI, spec, spec.get(BETA2));
      // SCAFFOLD's client half runs at the hospitals, asked for by "control_delta" in the training plan.
      case SCAFFOLD -> new Scaffold(spec.get(SERVER_LEARNING_RATE));
      case FEDMEDIAN -> new FedMedian();
      case FEDTRIMMEDAVG -> new FedTrimmedAvg(spec.get(TRIM_FRACTION));
      case KRUM -> new Krum(byzantine(spec), 1);
      case MULTIKRUM -> new Krum(byzantine(spec), (int) spec.get(SELECTED));
    };
  }

  private static FedOpt fedOpt(FedOpt.SecondMoment rule, StrategySpec spec, double beta2) {
    return new FedOpt(rule, spec.get(SERVER_LEARNING_RATE), spec.get(BETA1), beta2, spec.get(TAU));
  }

  private static int byzantine(StrategySpec spec) {
    return (int) spec.get(BYZANTINE);
  }
}
