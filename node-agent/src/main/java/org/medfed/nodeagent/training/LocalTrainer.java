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

  /** Evaluates {@code parameters} on the dataset's held-out test split. */
  Evaluated evaluate(TrainingPlan plan, float[] parameters, LocalDataset dataset);

  /** The result of local training; {@code parameters} are the new local weights, not a delta. */
  record Trained(float[] parameters, long numSamples, Map<String, Double> metrics) {
    public Trained {
      parameters = parameters.clone();
      metrics = Map.copyOf(metrics);
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
