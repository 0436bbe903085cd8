package org.medfed.nodeagent.training;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * DP-SGD's clipped gradient sum for a network of dense layers, from one batched forward and backward
 * pass instead of one pass per record. A dense layer's gradient for record i is the outer product of
 * its input a_i and its pre-activation error d_i, so its squared norm is (|a_i|² + 1)·|d_i|² (the 1
 * for the bias) and the clipped sum is aᵀ·diag(c)·d with c_i = min(1, C / |g_i|) (Goodfellow 2015,
 * "Efficient per-example gradient computations"). The result equals clipping each record's own
 * gradient, to rounding (DpSgdTest checks it against the per-record path).
 */
final class DenseClippedSum {
  private final MultiLayerNetwork net;
  private final List<Dense> layers;
  private final ILossFunction loss;

  /** One dense layer's weights and activation. */
  private record Dense(INDArray weights, Optional<INDArray> bias, IActivation activation) {}

  private DenseClippedSum(MultiLayerNetwork net, List<Dense> layers, ILossFunction loss) {
    this.net = net;
    this.layers = layers;
    this.loss = loss;
  }

  /**
   * The batched path for {@code net}, if every layer is a dense or output layer without dropout or
   * weight noise (their per-record randomness would differ from the per-record path's); empty otherwise.
   */
  static Optional<DenseClippedSum> of(MultiLayerNetwork net) {
    List<Dense> layers = new ArrayList<>();
    Layer[] all = net.getLayers();
    for (int l = 0; l < all.length; l++) {
      org.deeplearning4j.nn.conf.layers.Layer conf = all[l].conf().getLayer();
      boolean last = l == all.length - 1;
      boolean dense = last ? conf instanceof BaseOutputLayer && conf instanceof FeedForwardLayer
          && conf.getClass() == org.deeplearning4j.nn.conf.layers.OutputLayer.class : conf instanceof DenseLayer;
      if (!dense || conf.getIDropout() != null
          || ((org.deeplearning4j.nn.conf.layers.BaseLayer) conf).getWeightNoise() != null) {
        return Optional.empty();
      }
      org.deeplearning4j.nn.conf.layers.BaseLayer base = (org.deeplearning4j.nn.conf.layers.BaseLayer) conf;
      boolean hasBias = last ? ((BaseOutputLayer) conf).hasBias() : ((DenseLayer) conf).hasBias();
      layers.add(new Dense(all[l].getParam("W"), hasBias ? Optional.of(all[l].getParam("b")) : Optional.empty(),
          base.getActivationFn()));
    }
    if (layers.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new DenseClippedSum(net, layers,
        ((BaseOutputLayer) all[all.length - 1].conf().getLayer()).getLossFn()));
  }

  /** The clipped sum of the records' gradients as a row in the network's flattened parameter order, and their summed loss. */
  record Result(INDArray sum, double lossSum) {}

  Result clippedSum(INDArray features, INDArray labels, double clip) {
    int depth = layers.size();
    // Forward: each layer's input and pre-activation.
    List<INDArray> inputs = new ArrayList<>(depth);
    List<INDArray> preActivations = new ArrayList<>(depth);
    INDArray a = features.castTo(net.params().dataType());
    for (Dense layer : layers) {
      inputs.add(a);
      INDArray z = a.mmul(layer.weights());
      layer.bias().ifPresent(z::addiRowVector);
      preActivations.add(z);
      a = layer.activation().getActivation(z.dup(), true);
    }
    // Backward: each layer's per-record error dL_i/dz_i (not averaged over the batch).
    INDArray[] errors = new INDArray[depth];
    INDArray output = preActivations.get(depth - 1);
    IActivation outputActivation = layers.get(depth - 1).activation();
    INDArray lossPerRecord = loss.computeScoreArray(labels, output.dup(), outputActivation, null);
    errors[depth - 1] = loss.computeGradient(labels, output.dup(), outputActivation, null);
    for (int l = depth - 2; l >= 0; l--) {
      INDArray epsilon = errors[l + 1].mmul(layers.get(l + 1).weights().transpose());
      errors[l] = layers.get(l).activation().backprop(preActivations.get(l).dup(), epsilon).getFirst();
    }
    // Per-record squared norms, summed over layers, then each record's clipping factor.
    INDArray squaredNorms = Nd4j.zeros(errors[0].dataType(), features.size(0), 1);
    for (int l = 0; l < depth; l++) {
      INDArray inputNorms = inputs.get(l).mul(inputs.get(l)).sum(true, 1);
      if (layers.get(l).bias().isPresent()) {
        inputNorms.addi(1);
      }
      squaredNorms.addi(inputNorms.muli(errors[l].mul(errors[l]).sum(true, 1)));
    }
    // A record with a zero gradient gets C / 0 = infinity, and so the factor 1.
    INDArray factors = Transforms.min(Transforms.sqrt(squaredNorms, false).rdivi(clip), 1.0, false);
    // The clipped sums, laid out as DL4J flattens parameters: per layer W (column-major), then b.
    List<INDArray> parts = new ArrayList<>();
    for (int l = 0; l < depth; l++) {
      INDArray scaled = errors[l].mulColumnVector(factors);
      INDArray weights = inputs.get(l).transpose().mmul(scaled);
      parts.add(Nd4j.toFlattened('f', weights).reshape(1, weights.length()));
      if (layers.get(l).bias().isPresent()) {
        parts.add(scaled.sum(true, 0));
      }
    }
    return new Result(Nd4j.hstack(parts.toArray(INDArray[]::new)).reshape(1, net.numParams()),
        lossPerRecord.sumNumber().doubleValue());
  }
}
