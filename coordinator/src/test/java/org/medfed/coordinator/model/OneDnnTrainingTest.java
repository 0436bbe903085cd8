package org.medfed.coordinator.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.medfed.coordinator.job.Optimizer;
import org.medfed.models.cpu.OneDnn;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.TrainingPlan;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The catalog's small CNN, built as an agent builds it ({@link Dl4jTrainer#network}), trains on
 * oneDNN (see {@link OneDnn}), and its losses and weights agree with DL4J's plain im2col path on
 * this machine's CPU, with the first convolution's unused input gradient skipped. Fails if a DL4J upgrade, a pom change or a lost shim quietly brings back the
 * 5× slower path.
 */
class OneDnnTrainingTest {
  private static final int STEPS = 10;

  private static TrainingPlan smallCnnPlan() {
    MultiLayerConfiguration configuration = ModelCatalog.smallCnn(1, 28, 28, 10, 0.002, 11, Optimizer.ADAM, 64);
    MultiLayerNetwork net = new MultiLayerNetwork(configuration);
    net.init();
    return new TrainingPlan(configuration.toJson(), net.numParams(), new long[] {1, 28, 28}, 10, 1, 32, 0.002, 11);
  }

  private static float[] initialParameters(TrainingPlan plan) {
    Nd4j.getRandom().setSeed(plan.seed());
    MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(plan.modelConfigJson()));
    net.init();
    return net.params().dup().data().asFloat();
  }

  /** Blobs whose brightness depends on the class, so the losses fall and the comparison is of learning. */
  private static List<DataSet> batches(int count) {
    SplittableRandom random = new SplittableRandom(5);
    List<DataSet> batches = new ArrayList<>();
    for (int b = 0; b < count; b++) {
      INDArray features = Nd4j.create(DataType.FLOAT, 32, 1, 28, 28);
      INDArray labels = Nd4j.zeros(DataType.FLOAT, 32, 10);
      for (int i = 0; i < 32; i++) {
        int label = random.nextInt(10);
        labels.putScalar(i, label, 1f);
        for (int p = 0; p < 28 * 28; p++) {
          features.putScalar(new long[] {i, 0, p / 28, p % 28}, 0.1 * label * random.nextDouble());
        }
      }
      batches.add(new DataSet(features, labels));
    }
    return batches;
  }

  private static double[] fit(MultiLayerNetwork net, List<DataSet> batches) {
    double[] losses = new double[batches.size()];
    for (int i = 0; i < batches.size(); i++) {
      net.fit(batches.get(i));
      losses[i] = net.score();
    }
    return losses;
  }

  /** The network DL4J M2.1 builds without medfed's fast path: helpers off, nothing cached. */
  private static MultiLayerNetwork plainNetwork(TrainingPlan plan, float[] parameters) {
    String before = System.getProperty(OneDnn.HELPERS_DISABLE);
    System.setProperty(OneDnn.HELPERS_DISABLE, "true");
    try {
      MultiLayerNetwork net = Dl4jTrainer.network(plan, parameters);
      net.setCacheMode(CacheMode.NONE);
      return net;
    } finally {
      if (before == null) {
        System.clearProperty(OneDnn.HELPERS_DISABLE);
      } else {
        System.setProperty(OneDnn.HELPERS_DISABLE, before);
      }
    }
  }

  @Test
  void smallCnn_builtByTheTrainer_runsItsConvolutionsAndPoolingOnOneDnn_beforeAndAfterTraining() {
    TrainingPlan plan = smallCnnPlan();

    MultiLayerNetwork net = Dl4jTrainer.network(plan, initialParameters(plan));
    assertTrue(OneDnn.inLibrary(), "libnd4j is not the -onednn build: check the nd4j-native classifier in the poms");
    assertOneDnnHelpers(net);
    fit(net, batches(3));

    // DL4J drops a helper that throws and falls back for good: still there after training.
    assertOneDnnHelpers(net);
  }

  private static void assertOneDnnHelpers(MultiLayerNetwork net) {
    int convolutions = 0;
    int poolings = 0;
    for (Layer layer : net.getLayers()) {
      if (layer instanceof ConvolutionLayer conv) {
        assertTrue(OneDnn.onOneDnn(conv.getHelper()), "layer " + layer.getIndex() + " helper: " + conv.getHelper());
        convolutions++;
      } else if (layer instanceof SubsamplingLayer pool) {
        assertInstanceOf(MKLDNNSubsamplingHelper.class, pool.getHelper(), "layer " + layer.getIndex() + " helper");
        poolings++;
      }
    }
    assertEquals(2, convolutions);
    assertInstanceOf(MKLDNNConvHelper.class, ((ConvolutionLayer) net.getLayer(2)).getHelper());
    assertEquals(2, poolings);
    assertTrue(OneDnn.convolutionsUseOneDnn(net));
  }

  @Test
  void smallCnn_onOneDnn_agreesWithThePlainPath_stepByStep_fromTheSameWeightsAndBatches() {
    TrainingPlan plan = smallCnnPlan();
    float[] initial = initialParameters(plan);
    List<DataSet> batches = batches(STEPS);

    MultiLayerNetwork plain = plainNetwork(plan, initial);
    MultiLayerNetwork fast = Dl4jTrainer.network(plan, initial);
    double[] plainLosses = fit(plain, batches);
    double[] fastLosses = fit(fast, batches);

    assertTrue(!OneDnn.convolutionsUseOneDnn(plain) && OneDnn.convolutionsUseOneDnn(fast), "one path each");
    assertTrue(plainLosses[STEPS - 1] < plainLosses[0], "the comparison is of a network that learns");
    for (int i = 0; i < STEPS; i++) {
      // Summation order differs (oneDNN's blocked kernels against im2col + BLAS): float rounding only.
      assertEquals(plainLosses[i], fastLosses[i], 1e-4 * Math.abs(plainLosses[i]), "loss at step " + i);
    }
    float[] plainParameters = plain.params().data().asFloat();
    float[] fastParameters = fast.params().data().asFloat();
    double largest = 0;
    for (int i = 0; i < plainParameters.length; i++) {
      largest = Math.max(largest, Math.abs(plainParameters[i] - fastParameters[i]));
    }
    assertTrue(largest < 1e-4, "largest parameter difference after " + STEPS + " Adam steps: " + largest);
  }
}
