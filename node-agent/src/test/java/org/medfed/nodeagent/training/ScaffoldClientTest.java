package org.medfed.nodeagent.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.Test;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * SCAFFOLD's client half (Karimireddy et al. 2020, Algorithm 1 lines 8-13, option II) by hand, on one
 * weight trained by DL4J: each step is y = y − η (g(y) + c − c_i), and afterwards
 * c_i+ = c_i − c + (x − y) / (K·η), which for SGD is the mean of the round's raw gradients.
 */
class ScaffoldClientTest {
  // One weight, no bias, identity activation and MSE: the gradient over a minibatch is mean(2 (w x - y) x).
  private static String oneWeight(org.nd4j.linalg.learning.config.IUpdater updater) {
    return new NeuralNetConfiguration.Builder().updater(updater).list()
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(1).nOut(1).hasBias(false)
            .activation(Activation.IDENTITY).build())
        .build().toJson();
  }

  private static LocalDataset data() {
    // x = [1, 2], y = [2, 4] in one minibatch of 2: the data gradient is 5w - 10.
    DataSet train = new DataSet(Nd4j.create(new float[] {1, 2}, new long[] {2, 1}),
        Nd4j.create(new float[] {2, 4}, new long[] {2, 1}));
    return new LocalDataset("d", DatasetKind.CLINICAL, new long[] {1}, List.of("y"), train, train);
  }

  private static TrainingPlan plan(String config) {
    // Two epochs of one minibatch: K = 2 steps of η = 0.1.
    return new TrainingPlan(config, 1, new long[] {1}, 0, 2, 2, 0.1, 3);
  }

  @Test
  void oneRound_correctsEveryStep_andTheNextControlVariateIsTheMeanRawGradient() {
    // x = 0.5, c = 0.3, c_i = 0.1: every step's gradient gains c - c_i = 0.2.
    float[] global = {0.5f};
    float[] serverControl = {0.3f};
    double[] clientControl = {0.1};
    float[] correction = ScaffoldClient.correction(serverControl, clientControl);
    assertArrayEquals(new float[] {0.2f}, correction, 1e-7f);

    LocalTrainer.Trained trained = new Dl4jTrainer().train(plan(oneWeight(new Sgd(0.1))), global, correction, data(),
        CancellationToken.none());

    // Step 1: g = 5·0.5 - 10 = -7.5;   w1 = 0.5 - 0.1·(-7.5 + 0.2)  = 1.23
    // Step 2: g = 5·1.23 - 10 = -3.85; w2 = 1.23 - 0.1·(-3.85 + 0.2) = 1.595
    assertEquals(2, trained.steps());
    assertEquals(1.595f, trained.parameters()[0], 1e-5f);

    // c_i+ = 0.1 - 0.3 + (0.5 - 1.595) / (2·0.1) = -5.675 = mean(-7.5, -3.85); Δc_i = -5.675 - 0.1 = -5.775
    ScaffoldClient.Next next = ScaffoldClient.next(global, trained.parameters(), serverControl, clientControl,
        trained.steps(), 0.1);
    assertArrayEquals(new double[] {-5.675}, next.clientControl(), 1e-4);
    assertArrayEquals(new float[] {-5.775f}, next.controlDelta(), 1e-4f);
  }

  @Test
  void next_withoutAnyStep_isRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScaffoldClient.next(
        new float[] {0}, new float[] {0}, new float[] {0}, new double[] {0}, 0, 0.1));

    assertTrue(e.getMessage().contains("K >= 1"), e.getMessage());
  }

  @Test
  void train_withCorrectionAndAdam_isRefusedAskingForSgd() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Dl4jTrainer().train(
        plan(oneWeight(new Adam(0.1))), new float[] {0.5f}, new float[] {0.2f}, data(), CancellationToken.none()));

    assertTrue(e.getMessage().contains("SCAFFOLD needs plain SGD local steps, but layer 0 uses Adam"), e.getMessage());
  }
}
