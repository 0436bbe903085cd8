package org.medfed.nodeagent.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** DP-SGD's mechanics on a real DL4J network: the step, the per-record clipping, the noise scale and the sampling. */
class DpSgdTest {
  private static final double LEARNING_RATE = 0.1;

  /** A linear regression: inputs -> outputs, identity activation, MSE, plain SGD. */
  private static MultiLayerNetwork linear(int inputs, int outputs) {
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3)
        .dataType(DataType.DOUBLE).updater(new Sgd(LEARNING_RATE)).list()
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(inputs).nOut(outputs)
            .activation(Activation.IDENTITY).build())
        .build());
    net.init();
    return net;
  }

  private static DataSet records(int n, int inputs, int outputs, long seed) {
    Nd4j.getRandom().setSeed(seed);
    return new DataSet(Nd4j.randn(DataType.DOUBLE, n, inputs).muli(3), Nd4j.randn(DataType.DOUBLE, n, outputs));
  }

  @Test
  void theBatchedClippedSum_ofAReluMlp_equalsClippingEachRecordsOwnGradient() {
    MultiLayerNetwork mlp = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(5)
        .dataType(DataType.DOUBLE).updater(new Sgd(LEARNING_RATE)).list()
        .layer(new DenseLayer.Builder().nIn(6).nOut(8).activation(Activation.RELU).build())
        .layer(new DenseLayer.Builder().nOut(5).activation(Activation.TANH).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
        .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.feedForward(6))
        .build());
    mlp.init();
    Nd4j.getRandom().setSeed(4);
    INDArray features = Nd4j.randn(DataType.DOUBLE, 10, 6).muli(2);
    INDArray labels = Nd4j.zeros(DataType.DOUBLE, 10, 3);
    for (int i = 0; i < 10; i++) {
      labels.putScalar(i, i % 3, 1);
    }
    for (double clip : new double[] {1e9, 0.3}) {
      INDArray expected = Nd4j.zeros(DataType.DOUBLE, 1, mlp.numParams());
      double expectedLoss = 0;
      int clipped = 0;
      for (int i = 0; i < 10; i++) {
        MultiLayerNetwork copy = mlp.clone();
        copy.setInput(features.getRow(i, true));
        copy.setLabels(labels.getRow(i, true));
        copy.computeGradientAndScore();
        expectedLoss += copy.score();
        INDArray gradient = copy.getFlattenedGradients().dup();
        double norm = gradient.norm2Number().doubleValue();
        clipped += norm > clip ? 1 : 0;
        expected.addi(norm > clip ? gradient.mul(clip / norm) : gradient);
      }

      DenseClippedSum.Result batched = DenseClippedSum.of(mlp).orElseThrow().clippedSum(features, labels, clip);

      assertArrayEquals(expected.toDoubleVector(), batched.sum().toDoubleVector(), 1e-9, "clip " + clip);
      assertEquals(expectedLoss, batched.lossSum(), 1e-9);
      assertTrue(clip > 1e8 ? clipped == 0 : clipped > 5, "clip " + clip + " clipped " + clipped + " of 10 records");
    }
  }

  @Test
  void withoutClippingOrNoise_aStepOverEveryRecordIsPlainSgdOnTheWholeBatch() {
    DataSet data = records(16, 5, 2, 1);
    MultiLayerNetwork plain = linear(5, 2);
    MultiLayerNetwork dp = plain.clone();

    plain.fit(data);
    new DpSgd(dp, new DpSgdSettings(1e9, 0, 1.0), 7).train(data, 1, CancellationToken.none());

    assertArrayEquals(plain.params().toDoubleVector(), dp.params().toDoubleVector(), 1e-9);
  }

  @Test
  void eachRecordsGradientIsClippedToC_beforeTheyAreAveraged() {
    DataSet data = records(8, 4, 1, 2);
    MultiLayerNetwork dp = linear(4, 1);
    INDArray start = dp.params().dup();
    // Each record's raw gradient, from a copy of the network, one record at a time.
    double clip = 0.05;
    INDArray expectedSum = Nd4j.zeros(DataType.DOUBLE, 1, dp.numParams());
    for (int i = 0; i < 8; i++) {
      MultiLayerNetwork probe = dp.clone();
      probe.setInput(data.getFeatures().getRow(i, true));
      probe.setLabels(data.getLabels().getRow(i, true));
      probe.computeGradientAndScore();
      INDArray g = probe.getFlattenedGradients().dup();
      double norm = g.norm2Number().doubleValue();
      assertTrue(norm > clip, "the test needs gradients above the clip norm, got " + norm);
      expectedSum.addi(g.muli(clip / norm));
    }

    new DpSgd(dp, new DpSgdSettings(clip, 0, 1.0), 7).train(data, 1, CancellationToken.none());

    // w1 = w0 - lr * (sum of clipped gradients) / (q N)
    INDArray expected = start.sub(expectedSum.muli(LEARNING_RATE / 8).reshape(start.shape()));
    assertArrayEquals(expected.toDoubleVector(), dp.params().toDoubleVector(), 1e-12);
  }

  @Test
  void theNoiseOnTheSumHasStandardDeviationSigmaTimesC() {
    // 2000 outputs: 4000 parameters, each a sample of the noise after the step's scaling.
    DataSet data = records(10, 1, 2000, 3);
    MultiLayerNetwork clean = linear(1, 2000);
    MultiLayerNetwork noisy = clean.clone();
    double clip = 1e6;
    double sigma = 2.0;
    new DpSgd(clean, new DpSgdSettings(clip, 0, 1.0), 11).train(data, 1, CancellationToken.none());
    new DpSgd(noisy, new DpSgdSettings(clip, sigma, 1.0), 11).train(data, 1, CancellationToken.none());

    // The parameters differ by lr * noise / (q N); the noise on the sum is N(0, (sigma C)^2).
    INDArray noiseOnSum = clean.params().sub(noisy.params()).muli(10 / LEARNING_RATE);
    double mean = noiseOnSum.meanNumber().doubleValue();
    double sd = noiseOnSum.stdNumber().doubleValue();
    assertEquals(0, mean / (sigma * clip), 0.05, "mean " + mean);
    // 4000 samples: the sample sd is within 5% of the true one with overwhelming probability.
    assertEquals(1.0, sd / (sigma * clip), 0.05, "sd " + sd + " against sigma*C " + sigma * clip);
  }

  @Test
  void recordsArePoissonSampled_atRateQ() {
    DataSet data = records(1000, 2, 1, 4);
    DpSgd.Run run = new DpSgd(linear(2, 1), new DpSgdSettings(1, 1, 0.03), 5).train(data, 40,
        CancellationToken.none());
    // Binomial(40 000, 0.03): mean 1200, sd 34.
    assertEquals(1200, run.recordsSampled(), 4 * 34);
    assertEquals(40, run.steps());
  }

  @Test
  void batchNormalisationIsRefused_namingWhy() {
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list()
        .layer(new DenseLayer.Builder().nIn(3).nOut(4).build())
        .layer(new BatchNormalization.Builder().nOut(4).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(1).activation(Activation.IDENTITY)
            .build())
        .build());
    net.init();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new DpSgd(net, new DpSgdSettings(1, 1, 0.1), 1));
    assertTrue(e.getMessage().contains("batch normalisation"), e.getMessage());
  }

  /**
   * Each batched step's temporaries used to be left to the garbage collector, and their native memory
   * outran it (an MNIST run grew past 15 GB resident). With Adam, whose moments must outlive the step
   * workspace, many steps keep native memory flat and still learn.
   */
  @Test
  void manyBatchedStepsWithAdam_keepNativeMemoryFlat_andStillLearn() {
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3)
        .dataType(DataType.FLOAT).updater(new org.nd4j.linalg.learning.config.Adam(0.01)).list()
        .layer(new DenseLayer.Builder().nIn(32).nOut(64).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(64).nOut(4)
            .activation(Activation.IDENTITY).build())
        .build());
    net.init();
    Nd4j.getRandom().setSeed(5);
    INDArray inputs = Nd4j.randn(DataType.FLOAT, 512, 32);
    DataSet data = new DataSet(inputs, inputs.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4)).dup());
    DpSgd dp = new DpSgd(net, new DpSgdSettings(1.0, 0.1, 0.25), 9);

    double firstLoss = dp.train(data, 200, CancellationToken.none()).meanLoss();
    long warm = org.bytedeco.javacpp.Pointer.totalBytes();
    dp.train(data, 2000, CancellationToken.none());
    long grown = org.bytedeco.javacpp.Pointer.totalBytes() - warm;
    double lastLoss = dp.train(data, 200, CancellationToken.none()).meanLoss();

    assertTrue(grown < 32L << 20, "2000 steps of about 128 records grew native memory by " + (grown >> 20) + " MiB");
    assertTrue(lastLoss < firstLoss / 2, "Adam under DP-SGD should still learn: " + firstLoss + " -> " + lastLoss);
  }
}
