package org.medfed.coordinator.strategy;

import java.util.Optional;

/**
 * FedAvg with server momentum (Hsu, Qi and Brown 2019, arXiv 1909.06335): the averaged update feeds
 * a momentum buffer, {@code v = beta * v + mean(delta)}, and the model moves by {@code lr * v}.
 * Under label skew the hospitals' updates partly cancel; momentum keeps the directions they agree on.
 *
 * <p>Holds the momentum buffer for one job, so one instance serves exactly one job's rounds, in
 * order. Not thread-safe.
 */
public final class FedAvgM implements Strategy {
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
    float[] next = new float[mean.length];
    for (int i = 0; i < mean.length; i++) {
      velocity[i] = momentum * velocity[i] + mean[i];
      next[i] = (float) (globalParameters[i] + learningRate * velocity[i]);
    }
    return new Aggregate.Updated(next, Aggregation.withSamples(update));
  }

  @Override
  public Optional<double[]> state() {
    return Optional.ofNullable(velocity).map(double[]::clone);
  }

  @Override
  public void restore(double[] state) {
    velocity = state.clone();
  }

  @Override
  public String toString() {
    return "FedAvgM(lr=" + learningRate + ", momentum=" + momentum + ")";
  }
}
