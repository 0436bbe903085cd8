package org.medfed.coordinator.strategy;

import java.util.Map;

/**
 * FedAvg with server momentum (Hsu, Qi and Brown 2019, arXiv 1909.06335): the averaged update feeds
 * a momentum buffer, {@code v = beta * v + mean(delta)}, and the model moves by {@code lr * v}.
 * Under label skew the hospitals' updates partly cancel; momentum keeps the directions they agree on.
 *
 * <p>Holds the momentum buffer for one job, so one instance serves exactly one job's rounds, in
 * order. Not thread-safe.
 */
public final class FedAvgM implements MeanRule {
  private static final String VELOCITY = "velocity";
  private final double learningRate;
  private final double momentum;
  private double[] velocity;

  public FedAvgM(double learningRate, double momentum) {
    if (momentum < 0 || momentum >= 1) {
      throw new IllegalArgumentException("server momentum must be in [0, 1), got " + momentum);
    }
    this.learningRate = learningRate;
    this.momentum = momentum;
  }

  @Override
  public Aggregate aggregate(int round, float[] globalParameters, RoundUpdate update) {
    Aggregation.requireSameLength(globalParameters, update);
    float[] mean = update.meanDelta();
    if (velocity == null) {
      velocity = new double[mean.length];
    }
    Aggregation.requireSameLength(globalParameters, velocity.length, "the momentum buffer");
    float[] next = new float[mean.length];
    for (int i = 0; i < mean.length; i++) {
      velocity[i] = momentum * velocity[i] + mean[i];
      next[i] = (float) (globalParameters[i] + learningRate * velocity[i]);
    }
    return new Aggregate.Updated(next, Aggregation.withSamples(update));
  }

  @Override
  public StrategyState state() {
    return velocity == null ? StrategyState.NONE : StrategyState.of(Map.of(VELOCITY, velocity));
  }

  @Override
  public void restore(StrategyState state) {
    velocity = state.isEmpty() ? null : state.expectNames(this, VELOCITY).get(VELOCITY);
  }

  @Override
  public String toString() {
    return "FedAvgM(lr=" + learningRate + ", momentum=" + momentum + ")";
  }
}
