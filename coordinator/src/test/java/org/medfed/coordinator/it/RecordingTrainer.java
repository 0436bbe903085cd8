package org.medfed.coordinator.it;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.nodeagent.training.TrainingPlan;

/**
 * Real DL4J training that also remembers what it received and produced, so a test can compare the
 * hospital's view with the coordinator's. An optional hook runs before each training call, for
 * example to kill the agent mid-round.
 */
final class RecordingTrainer implements LocalTrainer {
  /** Runs before training call number {@code call}; {@code corrected} for SCAFFOLD's corrected steps. */
  @FunctionalInterface
  interface Hook {
    void beforeTraining(int call, boolean corrected);
  }


  final List<float[]> received = new CopyOnWriteArrayList<>();
  final List<float[]> produced = new CopyOnWriteArrayList<>();
  /** SCAFFOLD's c − c_i per training call, for jobs that correct their steps. */
  final List<float[]> corrections = new CopyOnWriteArrayList<>();
  private final Dl4jTrainer delegate = new Dl4jTrainer();
  private final Hook beforeTraining;
  private int calls;

  RecordingTrainer(Hook beforeTraining) {
    this.beforeTraining = beforeTraining;
  }

  RecordingTrainer() {
    this((call, corrected) -> { });
  }

  @Override
  public Trained train(TrainingPlan plan, float[] globalParameters, LocalDataset dataset, CancellationToken cancel) {
    beforeTraining.beforeTraining(++calls, false);
    received.add(globalParameters.clone());
    Trained trained = delegate.train(plan, globalParameters, dataset, cancel);
    produced.add(trained.parameters());
    return trained;
  }

  @Override
  public Trained train(TrainingPlan plan, float[] globalParameters, float[] gradientCorrection, LocalDataset dataset,
      CancellationToken cancel) {
    beforeTraining.beforeTraining(++calls, true);
    received.add(globalParameters.clone());
    corrections.add(gradientCorrection.clone());
    Trained trained = delegate.train(plan, globalParameters, gradientCorrection, dataset, cancel);
    produced.add(trained.parameters());
    return trained;
  }

  @Override
  public Evaluated evaluate(TrainingPlan plan, float[] parameters, LocalDataset dataset) {
    return delegate.evaluate(plan, parameters, dataset);
  }
}
