package org.medfed.nodeagent.training;

import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
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
 * <p>For a network of dense layers the clipped sum comes from one batched pass ({@link DenseClippedSum});
 * for any other, per-record gradients come from one backward pass per sampled record. Layers whose output for
 * one record depends on the others in its batch (batch normalisation) are refused: clipping one
 * record's gradient would not bound its influence.
 */
final class DpSgd {
  private static final String STEP_WORKSPACE = "medfed-dp-sgd-step";
  private static final WorkspaceConfiguration STEP = WorkspaceConfiguration.builder()
      .policyAllocation(AllocationPolicy.STRICT)
      .policyLearning(LearningPolicy.FIRST_LOOP)
      .policyReset(ResetPolicy.BLOCK_LEFT)
      .build();

  /** What a run did: the steps taken, the records sampled over them, and the mean data loss of the sampled records. */
  record Run(long steps, long recordsSampled, double meanLoss) {}

  private final MultiLayerNetwork net;
  private final DpSgdSettings settings;
  private final SplittableRandom sampling;
  private final Optional<DenseClippedSum> batched;

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
    this.batched = DenseClippedSum.of(net);
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
    if (batched.isPresent() && net.gradient() == null) {
      // DL4J makes the gradient views apply() writes into, and the Gradient its updater takes, on a
      // network's first backward pass; the batched path runs none, so run one (it changes no weight).
      net.setInput(rows(features, 0));
      net.setLabels(rows(labels, 0));
      net.computeGradientAndScore();
    }
    // Created here, outside the step workspace: the updater's state (Adam's moments) must outlive every step.
    net.getUpdater();
    for (long step = 0; step < steps; step++) {
      cancel.throwIfCancelled();
      int[] batch = poissonSample(n);
      if (batched.isPresent()) {
        // A batched step's temporaries live in a workspace the next step reuses. Left to the garbage
        // collector, their native memory outran it: an MNIST run grew past 15 GB resident.
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().getAndActivateWorkspace(STEP, STEP_WORKSPACE)) {
          INDArray sum;
          if (batch.length == 0) {
            sum = Nd4j.zeros(net.params().dataType(), 1, net.numParams());
          } else {
            DenseClippedSum.Result result = batched.get().clippedSum(rows(features, batch), rows(labels, batch),
                settings.clipNorm());
            sum = result.sum();
            lossSum += result.lossSum();
          }
          noiseAndApply(sum, expectedBatch);
        }
      } else {
        INDArray sum = Nd4j.zeros(net.params().dataType(), 1, net.numParams());
        for (int i : batch) {
          net.setInput(rows(features, i));
          net.setLabels(rows(labels, i));
          net.computeGradientAndScore();
          lossSum += net.score();
          INDArray gradient = net.getFlattenedGradients();
          double norm = gradient.norm2Number().doubleValue();
          sum.addi(norm > settings.clipNorm() ? gradient.mul(settings.clipNorm() / norm) : gradient);
        }
        noiseAndApply(sum, expectedBatch);
      }
      sampled += batch.length;
    }
    return new Run(steps, sampled, sampled == 0 ? Double.NaN : lossSum / sampled);
  }

  /** Adds N(0, σ²C²) to the clipped sum, divides by the expected batch size and takes the step. */
  private void noiseAndApply(INDArray sum, double expectedBatch) {
    if (settings.noiseMultiplier() > 0) {
      sum.addi(Nd4j.randn(sum.dataType(), sum.shape()).muli(settings.noiseMultiplier() * settings.clipNorm()));
    }
    apply(sum.divi(expectedBatch));
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

  private int[] poissonSample(int n) {
    return IntStream.range(0, n).filter(i -> sampling.nextDouble() < settings.sampleRate()).toArray();
  }

  /** The records at {@code indices} as one batch, keeping every other dimension (images stay [b, c, h, w]). */
  private static INDArray rows(INDArray all, int... indices) {
    if (indices.length == 1) {
      return all.get(NDArrayIndex.interval(indices[0], indices[0] + 1)).dup();
    }
    return Nd4j.pullRows(all, 1, indices);
  }
}
