package org.medfed.examples.demo;

import java.util.ArrayList;
import java.util.List;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.model.ModelCatalog;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.nodeagent.training.TrainingPlan;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The comparisons a consortium asks for: each hospital training alone, and all data pooled in one
 * place. Same architecture, initial weights, optimiser and number of passes over the data as the
 * federated job (rounds x local epochs), evaluated on the same held-out union.
 */
final class Baselines {
  private final Dl4jTrainer trainer = new Dl4jTrainer();
  private final TrainingPlan plan;
  private final float[] initial;

  Baselines(DemoTask task) {
    JobSpec spec = JobSpecParser.parse(task.jobDocument());
    GlobalModel model = ModelCatalog.initialModel(spec);
    this.initial = model.parameters();
    this.plan = new TrainingPlan(model.configJson(), model.parameterCount(), spec.inputShape(), spec.numClasses(),
        spec.rounds() * spec.localEpochs(), spec.batchSize(), spec.learningRate(), spec.seed());
  }

  double accuracyOf(LocalDataset trainOn, DataSet heldOut) {
    LocalTrainer.Trained trained = trainer.train(plan, initial, trainOn, CancellationToken.none());
    return Dl4jTrainer.evaluate(Dl4jTrainer.network(plan, trained.parameters()), heldOut).metrics().get("accuracy");
  }

  List<Double> local(List<LocalDataset> hospitals, DataSet heldOut) {
    List<Double> accuracies = new ArrayList<>();
    for (LocalDataset hospital : hospitals) {
      accuracies.add(accuracyOf(hospital, heldOut));
    }
    return accuracies;
  }

  double pooled(List<LocalDataset> hospitals, DataSet heldOut) {
    LocalDataset first = hospitals.get(0);
    DataSet train = merge(hospitals.stream().map(LocalDataset::train).toList());
    return accuracyOf(new LocalDataset("pooled", first.kind(), first.inputShape(), first.classes(), train, heldOut),
        heldOut);
  }

  static DataSet unionOfTestSplits(List<LocalDataset> hospitals) {
    return merge(hospitals.stream().map(LocalDataset::test).toList());
  }

  /**
   * The examples one after the other. Not {@link DataSet#merge}: it refuses rank-5 (volume)
   * features; the demo's datasets have no masks, so concatenating along the examples is all a merge is.
   */
  private static DataSet merge(List<DataSet> parts) {
    List<DataSet> present = parts.stream().filter(d -> !d.isEmpty() && d.numExamples() > 0).toList();
    return new DataSet(Nd4j.concat(0, present.stream().map(DataSet::getFeatures).toArray(INDArray[]::new)),
        Nd4j.concat(0, present.stream().map(DataSet::getLabels).toArray(INDArray[]::new)));
  }
}
