package org.medfed.nodeagent.training;

import java.util.Map;
import org.medfed.nodeagent.data.LocalDataset;

/**
 * The agent's whole training contract, as small as Flower's NumPyClient: parameters and a plan in;
 * parameters, sample count and metrics out. DL4J is one implementation behind it.
 */
public interface LocalTrainer {

  /** Trains from {@code globalParameters} for the plan's local epochs on the dataset's train split. */
  Trained train(TrainingPlan plan, float[] globalParameters, LocalDataset dataset, CancellationToken cancel);

  /**
   * Trains as {@link #train(TrainingPlan, float[], LocalDataset, CancellationToken)}, adding
   * {@code gradientCorrection} to the gradient of every local step: SCAFFOLD's c − c_i (Karimireddy
   * et al. 2020). The result must count its {@link Trained#steps steps}.
   */
  default Trained train(TrainingPlan plan, float[] globalParameters, float[] gradientCorrection, LocalDataset dataset,
      CancellationToken cancel) {
    throw new UnsupportedOperationException(this + " cannot correct its local steps, which SCAFFOLD needs");
  }

  /** Evaluates {@code parameters} on the dataset's held-out test split. */
  Evaluated evaluate(TrainingPlan plan, float[] parameters, LocalDataset dataset);

  /**
   * The result of local training; {@code parameters} are the new local weights, not a delta.
   *
   * @param steps the optimiser steps taken, K in SCAFFOLD's control-variate update; 0 if not counted
   */
  record Trained(float[] parameters, long numSamples, Map<String, Double> metrics, long steps) {
    public Trained {
      parameters = parameters.clone();
      metrics = Map.copyOf(metrics);
      if (steps < 0) {
        throw new IllegalArgumentException("a trainer cannot take " + steps + " steps");
      }
    }

    /** A result that does not count its steps. */
    public Trained(float[] parameters, long numSamples, Map<String, Double> metrics) {
      this(parameters, numSamples, metrics, 0);
    }

    @Override
    public float[] parameters() {
      return parameters.clone();
    }
  }

  record Evaluated(long numSamples, Map<String, Double> metrics) {
    public Evaluated {
      metrics = Map.copyOf(metrics);
    }
  }
}
