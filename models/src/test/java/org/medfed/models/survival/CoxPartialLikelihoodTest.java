package org.medfed.models.survival;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

class CoxPartialLikelihoodTest {
  // times 5, 3, 8, 1 with events 1, 0, 1, 1; scores 0.2, -0.1, 0.4, 1.0
  private final INDArray labels = Nd4j.createFromArray(new double[][] {{5, 1}, {3, 0}, {8, 1}, {1, 1}});
  private final INDArray scores = Nd4j.createFromArray(new double[][] {{0.2}, {-0.1}, {0.4}, {1.0}});
  private final CoxPartialLikelihood loss = new CoxPartialLikelihood();

  @Test
  void score_matchesTheHandComputedPartialLikelihood() {
    // Sorted by time, longest first: 8 (s .4), 5 (s .2), 3 (s -.1), 1 (s 1.0)
    double e8 = Math.exp(0.4);
    double e5 = Math.exp(0.2);
    double e3 = Math.exp(-0.1);
    double e1 = Math.exp(1.0);
    double expected = (Math.log(e8) - 0.4) + (Math.log(e8 + e5) - 0.2) + (Math.log(e8 + e5 + e3 + e1) - 1.0);

    double score = loss.computeScore(labels, scores, new ActivationIdentity(), null, false);

    assertEquals(expected, score, 1e-6);
    assertEquals(expected / 4, loss.computeScore(labels, scores, new ActivationIdentity(), null, true), 1e-6);
  }

  @Test
  void gradient_matchesFiniteDifferences() {
    INDArray gradient = loss.computeGradient(labels, scores, new ActivationIdentity(), null);
    double h = 1e-6;
    for (int k = 0; k < 4; k++) {
      INDArray up = scores.dup();
      INDArray down = scores.dup();
      up.putScalar(k, 0, up.getDouble(k, 0) + h);
      down.putScalar(k, 0, down.getDouble(k, 0) - h);
      double numeric = (loss.computeScore(labels, up, new ActivationIdentity(), null, false)
          - loss.computeScore(labels, down, new ActivationIdentity(), null, false)) / (2 * h);
      assertEquals(numeric, gradient.getDouble(k, 0), 1e-5, "d/ds_" + k);
    }
  }

  @Test
  void concordanceIndex_followsLifelinesConventions() {
    double[] time = {5, 3, 8, 1, 3};
    boolean[] event = {true, false, true, true, true};
    // Perfect ordering: shorter time, higher risk.
    assertEquals(1.0, ConcordanceIndex.of(time, event, new double[] {2, 3, 1, 5, 3.5}), 1e-12);
    // Reversed risk: every comparable pair discordant.
    assertEquals(0.0, ConcordanceIndex.of(time, event, new double[] {4, 3, 5, 1, 2.5}), 1e-12);
    // Constant risk: every comparable pair is a tie, worth one half.
    assertEquals(0.5, ConcordanceIndex.of(time, event, new double[] {1, 1, 1, 1, 1}), 1e-12);
    assertTrue(Double.isNaN(ConcordanceIndex.of(new double[] {1, 2}, new boolean[] {false, false},
        new double[] {0, 1})));
  }

  @Test
  void aDl4jLinearCoxModel_learnsToRankRisk() {
    var net = new MultiLayerNetwork(
        new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(0.05))
            .list()
            .layer(new OutputLayer.Builder().lossFunction(new CoxPartialLikelihood())
                .nIn(2).nOut(1).activation(Activation.IDENTITY).build())
            .build());
    net.init();
    // Risk grows with the first feature; the second is noise.
    Random random = new Random(3);
    int n = 200;
    double[][] x = new double[n][2];
    double[][] y = new double[n][2];
    for (int i = 0; i < n; i++) {
      x[i][0] = random.nextGaussian();
      x[i][1] = random.nextGaussian();
      y[i][0] = -Math.log(random.nextDouble()) / Math.exp(1.5 * x[i][0]);
      y[i][1] = random.nextDouble() < 0.7 ? 1 : 0;
    }
    INDArray features = Nd4j.createFromArray(x).castTo(DataType.FLOAT);
    INDArray targets = Nd4j.createFromArray(y).castTo(DataType.FLOAT);
    for (int epoch = 0; epoch < 100; epoch++) {
      net.fit(features, targets);
    }
    double[] risk = net.output(features).reshape(n).toDoubleVector();
    boolean[] event = new boolean[n];
    double[] time = new double[n];
    for (int i = 0; i < n; i++) {
      time[i] = y[i][0];
      event[i] = y[i][1] > 0.5;
    }
    double c = ConcordanceIndex.of(time, event, risk);
    assertTrue(c > 0.75, "C-index " + c);
    // The configuration round-trips through JSON, as it does on its way to the agents.
    var json = net.getLayerWiseConfigurations().toJson();
    assertTrue(MultiLayerConfiguration.fromJson(json).getConf(0).getLayer().toString()
        .contains("Cox") || json.contains("CoxPartialLikelihood"));
  }
}
