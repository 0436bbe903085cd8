package org.medfed.sparktrainer;

import java.io.Serializable;
import org.medfed.nodeagent.training.TrainingPlan;

/**
 * What an executor needs of a {@link TrainingPlan} to train its partition, in a form Spark can
 * serialise (the plan's {@code Optional} cannot be). DP-SGD settings are not carried: the trainer
 * refuses such plans before anything is sent.
 */
record Recipe(String modelConfigJson, long parameterCount, long[] inputShape, int numClasses, int localEpochs,
    int batchSize, double learningRate, long seed, double proximalMu, int localSteps) implements Serializable {
  private static final long serialVersionUID = 1L;

  Recipe {
    inputShape = inputShape.clone();
  }

  static Recipe of(TrainingPlan plan) {
    if (plan.dpSgd().isPresent()) {
      throw new IllegalArgumentException("a DP-SGD plan cannot be sent to executors: " + plan);
    }
    return new Recipe(plan.modelConfigJson(), plan.parameterCount(), plan.inputShape(), plan.numClasses(),
        plan.localEpochs(), plan.batchSize(), plan.learningRate(), plan.seed(), plan.proximalMu(), plan.localSteps());
  }

  @Override
  public long[] inputShape() {
    return inputShape.clone();
  }

  TrainingPlan plan() {
    return new TrainingPlan(modelConfigJson, parameterCount, inputShape, numClasses, localEpochs, batchSize,
        learningRate, seed, proximalMu, localSteps);
  }
}
