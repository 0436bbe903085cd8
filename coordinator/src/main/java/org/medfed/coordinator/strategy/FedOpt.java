package org.medfed.coordinator.strategy;

import java.util.Locale;
import java.util.Map;

/**
 * Adaptive federated optimisation (Reddi et al. 2021, "Adaptive Federated Optimization",
 * arXiv 2003.00295, Algorithm 2): the round's mean delta Δ is treated as a pseudo-gradient for a
 * server-side Adagrad, Adam or Yogi step, which adapts the step per coordinate:
 *
 * <pre>
 * m = β1·m + (1−β1)·Δ
 * v = {@link SecondMoment#next the rule's second moment}
 * x = x + η·m / (√v + τ)
 * </pre>
 *
 * m and v start at zero and there is no bias correction, as in Flower's FedAdagrad/FedYogi and
 * FLamby's FedOpt; τ keeps the early steps bounded. The three rules differ only in v, so they are
 * one class here rather than three copies.
 *
 * <p>Holds m and v for one job, so one instance serves exactly one job's rounds, in order. Not thread-safe.
 */
public final class FedOpt implements MeanRule {
  private static final String M = "m";
  private static final String V = "v";

  /** How the second moment v follows Δ², the one place the three rules differ. */
  public enum SecondMoment {
    /** v = v + Δ²: every round counts forever, so steps only shrink. */
    ADAGRAD,
    /** v = β2·v + (1−β2)·Δ²: an exponential average. */
    ADAM,
    /** v = v − (1−β2)·Δ²·sign(v − Δ²): moves v towards Δ² additively, so it grows slower than Adam's. */
    YOGI;

    double next(double v, double squared, double beta2) {
      return switch (this) {
        case ADAGRAD -> v + squared;
        case ADAM -> beta2 * v + (1 - beta2) * squared;
        case YOGI -> v - (1 - beta2) * squared * Math.signum(v - squared);
      };
    }
  }

  private final SecondMoment rule;
  private final double learningRate;
  private final double beta1;
  private final double beta2;
  private final double tau;
  private double[] m;
  private double[] v;

  /** @param beta2 ignored by {@link SecondMoment#ADAGRAD} */
  public FedOpt(SecondMoment rule, double learningRate, double beta1, double beta2, double tau) {
    if (!(learningRate > 0 && beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && tau > 0)) {
      throw new IllegalArgumentException("FedOpt needs learning rate > 0, beta1 and beta2 in [0, 1), tau > 0; got "
          + learningRate + ", " + beta1 + ", " + beta2 + ", " + tau);
    }
    this.rule = rule;
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.tau = tau;
  }

  @Override
  public Aggregate aggregate(int round, float[] globalParameters, RoundUpdate update) {
    Aggregation.requireSameLength(globalParameters, update);
    if (m == null) {
      m = new double[globalParameters.length];
      v = new double[globalParameters.length];
    }
    Aggregation.requireSameLength(globalParameters, m.length, "the restored first moment m");
    Aggregation.requireSameLength(globalParameters, v.length, "the restored second moment v");
    float[] next = new float[globalParameters.length];
    for (int i = 0; i < next.length; i++) {
      double delta = update.at(i);
      m[i] = beta1 * m[i] + (1 - beta1) * delta;
      v[i] = rule.next(v[i], delta * delta, beta2);
      next[i] = (float) (globalParameters[i] + learningRate * m[i] / (Math.sqrt(v[i]) + tau));
    }
    return new Aggregate.Updated(next, Aggregation.withSamples(update));
  }

  @Override
  public StrategyState state() {
    return m == null ? StrategyState.NONE : StrategyState.of(Map.of(M, m, V, v));
  }

  @Override
  public void restore(StrategyState state) {
    if (state.isEmpty()) {
      m = null;
      v = null;
      return;
    }
    state.expectNames(this, M, V);
    m = state.get(M);
    v = state.get(V);
  }

  @Override
  public String toString() {
    String name = "Fed" + rule.name().charAt(0) + rule.name().substring(1).toLowerCase(Locale.ROOT);
    return name + "(lr=" + learningRate + ", beta1=" + beta1 + (rule == SecondMoment.ADAGRAD ? "" : ", beta2=" + beta2)
        + ", tau=" + tau + ")";
  }
}
