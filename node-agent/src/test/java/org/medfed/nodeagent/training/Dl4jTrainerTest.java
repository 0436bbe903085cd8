package org.medfed.nodeagent.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class Dl4jTrainerTest {
  private static final String LOGISTIC = new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(0.05)).list()
      .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(2).nOut(2).activation(Activation.SOFTMAX).build())
      .build().toJson();

  private static DataSet separable(long seed, int n) {
    Random random = new Random(seed);
    float[][] x = new float[n][2];
    float[][] y = new float[n][2];
    for (int i = 0; i < n; i++) {
      int label = i % 2;
      x[i][0] = (label == 0 ? -1 : 1) + 0.3f * (float) random.nextGaussian();
      x[i][1] = (float) random.nextGaussian();
      y[i][label] = 1;
    }
    return new DataSet(Nd4j.create(x), Nd4j.create(y));
  }

  private static float[] initial() {
    MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(LOGISTIC));
    net.init();
    return net.params().dup().data().asFloat();
  }

  @Test
  void train_onSeparableData_learnsAndReportsSamplesAndLoss() {
    LocalDataset data = new LocalDataset("d", DatasetKind.GENOMIC, new long[] {2}, List.of("a", "b"),
        separable(1, 200), separable(2, 100));
    TrainingPlan plan = new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 5, 20, 0.05, 3);
    Dl4jTrainer trainer = new Dl4jTrainer();

    LocalTrainer.Trained trained = trainer.train(plan, initial(), data, CancellationToken.none());
    LocalTrainer.Evaluated evaluated = trainer.evaluate(plan, trained.parameters(), data);

    assertEquals(200, trained.numSamples());
    assertTrue(trained.metrics().get("train_loss") < 0.5, trained.metrics().toString());
    assertTrue(evaluated.metrics().get("accuracy") > 0.9, evaluated.metrics().toString());
    assertEquals(100, evaluated.numSamples());
  }

  @Test
  void train_cancelled_stopsWithTheReason() {
    LocalDataset data = new LocalDataset("d", DatasetKind.GENOMIC, new long[] {2}, List.of("a", "b"),
        separable(1, 50), separable(2, 10));
    TrainingPlan plan = new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 1, 10, 0.05, 3);
    CancellationToken token = new CancellationToken();
    token.cancel("round deadline passed");

    var e = assertThrows(CancellationToken.CancelledException.class,
        () -> new Dl4jTrainer().train(plan, initial(), data, token));

    assertEquals("cancelled: round deadline passed", e.getMessage());
  }

  @Test
  void network_parameterCountMismatch_isRefusedWithBothCounts() {
    TrainingPlan plan = new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 1, 10, 0.05, 3);

    var e = assertThrows(IllegalArgumentException.class, () -> Dl4jTrainer.network(plan, new float[5]));

    assertEquals("model has 6 parameters but the job sent 5 (plan says 6)", e.getMessage());
  }
}
