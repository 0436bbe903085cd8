package org.medfed.nodeagent.training;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * DP-SGD (Abadi et al. 2016, arXiv 1607.00133) on a DL4J network, as the RDP accountant in
 * {@code privacy/} assumes it: every step samples each record independently with probability q
 * (Poisson sampling), clips each sampled record's gradient to L2 norm C, adds N(0, σ²C²) to the sum,
 * and divides by the expected batch size qN. The noisy average then goes through the model's own
 * updater (SGD, Nesterov, Adam…), which is post-processing and spends nothing more.
 *
 * <p>Per-record gradients come from one backward pass per sampled record. Layers whose output for
 * one record depends on the others in its batch (batch normalisation) are refused: clipping one
 * record's gradient would not bound its influence.
 */
final class DpSgd {

  /** What a run did: the steps taken, the records sampled over them, and the mean data loss of the sampled records. */
  record Run(long steps, long recordsSampled, double meanLoss) {}

  private final MultiLayerNetwork net;
  private final DpSgdSettings settings;
  private final SplittableRandom sampling;

  /**
   * @param seed seeds both the Poisson sampling and the noise (through ND4J's generator); it must be a secret
   *     of the hospital's (never the job's seed, which the coordinator knows), or the noise could be replayed
   * @throws IllegalArgumentException naming the layer when the network has one DP-SGD cannot bound
   */
  DpSgd(MultiLayerNetwork net, DpSgdSettings settings, long seed) {
    for (Layer layer : net.getLayers()) {
      if (layer.conf().getLayer() instanceof BatchNormalization) {
        throw new IllegalArgumentException("DP-SGD cannot train layer " + layer.getIndex() + " (batch normalisation):"
            + " its output for one record depends on the rest of the batch, so clipping a record's gradient does"
            + " not bound its influence; use a model without batch normalisation");
      }
    }
    this.net = net;
    this.settings = settings;
    this.sampling = new SplittableRandom(seed);
    Nd4j.getRandom().setSeed(seed);
  }

  /** Takes {@code steps} DP-SGD steps over {@code records}. */
  Run train(DataSet records, long steps, CancellationToken cancel) {
    int n = records.numExamples();
    if (n == 0) {
      throw new IllegalArgumentException("DP-SGD needs at least one training record");
    }
    INDArray features = records.getFeatures();
    INDArray labels = records.getLabels();
    double expectedBatch = settings.sampleRate() * n;
    long sampled = 0;
    double lossSum = 0;
    for (long step = 0; step < steps; step++) {
      cancel.throwIfCancelled();
      INDArray sum = Nd4j.zeros(net.params().dataType(), 1, net.numParams());
      for (int i : poissonSample(n)) {
        net.setInput(row(features, i));
        net.setLabels(row(labels, i));
        net.computeGradientAndScore();
        lossSum += net.score();
        sampled++;
        INDArray gradient = net.getFlattenedGradients();
        double norm = gradient.norm2Number().doubleValue();
        sum.addi(norm > settings.clipNorm() ? gradient.mul(settings.clipNorm() / norm) : gradient);
      }
      if (settings.noiseMultiplier() > 0) {
        sum.addi(Nd4j.randn(sum.dataType(), sum.shape()).muli(settings.noiseMultiplier() * settings.clipNorm()));
      }
      apply(sum.divi(expectedBatch));
    }
    return new Run(steps, sampled, sampled == 0 ? Double.NaN : lossSum / sampled);
  }

  /** Hands the noisy mean gradient to the model's updater as a batch of one, then steps as DL4J's SGD does. */
  private void apply(INDArray meanGradient) {
    INDArray view = net.getFlattenedGradients();
    view.assign(meanGradient);
    net.getUpdater().update(net, net.gradient(), net.getIterationCount(), net.getEpochCount(), 1,
        LayerWorkspaceMgr.noWorkspaces());
    INDArray parameters = net.params();
    parameters.subi(view.reshape(parameters.shape()));
    net.setIterationCount(net.getIterationCount() + 1);
  }

  private List<Integer> poissonSample(int n) {
    List<Integer> chosen = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (sampling.nextDouble() < settings.sampleRate()) {
        chosen.add(i);
      }
    }
    return chosen;
  }

  /** Record {@code i} as a batch of one, keeping every other dimension (images stay [1, c, h, w]). */
  private static INDArray row(INDArray all, int i) {
    return all.get(NDArrayIndex.interval(i, i + 1)).dup();
  }
}
