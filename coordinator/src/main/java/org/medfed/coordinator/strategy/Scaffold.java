package org.medfed.coordinator.strategy;

import java.util.Map;
import org.medfed.wire.UpdateLayout;

/**
 * SCAFFOLD (Karimireddy et al. 2020, "SCAFFOLD: Stochastic Controlled Averaging for Federated
 * Learning", arXiv 1910.06378, Algorithm 1 with option II), the server's half. Each hospital corrects
 * its local steps by c − c_i, the server's control variate c minus its own c_i, so that its model
 * drifts less towards its own data; it sends its model change Δy_i and the change of its control
 * variate Δc_i. The server then moves
 *
 * <pre>
 * x = x + η_g · mean(Δy)
 * c = c + (|S| / N) · mean(Δc)
 * </pre>
 *
 * where S are the round's contributors and N the hospitals it drew them from ({@link
 * RoundInput#population()}). Both means are sample-weighted, as FedAvg's: they are what one secure
 * sum yields, and the sample-weighted mean of the hospitals' gradients is the gradient of the
 * objective FedAvg minimises, the loss over all records. The paper's unweighted 1/N·Σ Δc_i is this
 * with equal sample counts. c starts at zero and is the strategy's state ("control"), so a resumed
 * job sends the same c.
 *
 * <p>Holds c for one job, so one instance serves exactly one job's rounds, in order. Not thread-safe.
 */
public final class Scaffold implements MeanRule {
  private static final String CONTROL = "control";
  private final double learningRate;
  private double[] control;

  /** @param learningRate η_g, the server's step on the mean model change; 1 moves as far as FedAvg */
  public Scaffold(double learningRate) {
    if (!(learningRate > 0)) {
      throw new IllegalArgumentException("SCAFFOLD's server learning rate must be > 0, got " + learningRate);
    }
    this.learningRate = learningRate;
  }

  @Override
  public Map<String, float[]> taskTensors(int round, float[] globalParameters) {
    float[] c = new float[globalParameters.length];
    if (control != null) {
      Aggregation.requireSameLength(globalParameters, control.length, "the server control variate");
      for (int i = 0; i < c.length; i++) {
        c[i] = (float) control[i];
      }
    }
    return Map.of(UpdateLayout.SERVER_CONTROL, c);
  }

  @Override
  public Aggregate aggregate(int round, float[] globalParameters, RoundInput input) {
    return step(globalParameters, input.mean(), input.population());
  }

  /** Given the mean alone, every hospital of the job is taken to have contributed (|S| = N). */
  @Override
  public Aggregate aggregate(int round, float[] globalParameters, RoundUpdate mean) {
    return step(globalParameters, mean, mean.contributors());
  }

  private Aggregate step(float[] globalParameters, RoundUpdate update, int population) {
    Aggregation.requireSameLength(globalParameters, update);
    float[] controlDelta = update.mean(UpdateLayout.CONTROL_DELTA);
    if (control == null) {
      control = new double[globalParameters.length];
    }
    Aggregation.requireSameLength(globalParameters, control.length, "the restored server control variate");
    double share = (double) update.contributors() / population;
    float[] next = new float[globalParameters.length];
    for (int i = 0; i < next.length; i++) {
      next[i] = (float) (globalParameters[i] + learningRate * update.at(i));
      control[i] += share * controlDelta[i];
    }
    return new Aggregate.Updated(next, Aggregation.withSamples(update));
  }

  @Override
  public StrategyState state() {
    return control == null ? StrategyState.NONE : StrategyState.of(Map.of(CONTROL, control));
  }

  @Override
  public void restore(StrategyState state) {
    control = state.isEmpty() ? null : state.expectNames(this, CONTROL).get(CONTROL);
  }

  @Override
  public String toString() {
    return "Scaffold(lr=" + learningRate + ")";
  }
}
