package org.medfed.models.cpu;

import java.util.Map;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdDataAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdFilterAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.FwdAlgo;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The oneDNN helper of a network's first convolution, minus the gradient nobody reads: the one
 * with respect to the network's input. libnd4j's {@code conv2d_bp} always computes it, and for a
 * one-channel image it is oneDNN's worst case (the channel is padded to a block of 16): on the
 * small CNN it took more time than all other convolution work of a step together.
 *
 * <p>The weight gradient {@code dW[o,i,u,v] = Σ_{b,y,x} in[b,i,y+u,x+v] · δ[b,o,y,x]} is itself a
 * forward convolution once the batch axis is taken as the channel axis: input {@code [iC, B, H, W]},
 * filters {@code δ} as {@code [oC, B, oH, oW]}, output {@code [iC, oC, kH, kW]}. oneDNN runs that
 * forward convolution fast. Only for stride 1, no dilation, no padding, NCHW ({@link
 * OneDnn#skipInputGradient} checks), where the identity holds as written. Forward passes go to
 * the delegate unchanged.
 */
final class InputConvolutionHelper implements ConvolutionHelper {
  private final ConvolutionHelper delegate;

  InputConvolutionHelper(ConvolutionHelper delegate) {
    this.delegate = delegate;
  }

  @Override
  public boolean checkSupported() {
    return delegate.checkSupported();
  }

  @Override
  public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias, INDArray delta,
      int[] kernel, int[] strides, int[] pad, INDArray biasGradView, INDArray weightGradView, IActivation afn,
      AlgoMode mode, BwdFilterAlgo bwdFilterAlgo, BwdDataAlgo bwdDataAlgo, ConvolutionMode convolutionMode,
      int[] dilation, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
    long inChannels = input.size(1);
    long outChannels = delta.size(1);
    INDArray batchAsChannels = input.permute(1, 0, 2, 3).dup('c');
    INDArray deltaAsFilters = delta.permute(1, 0, 2, 3).dup('c');
    INDArray out = Nd4j.createUninitialized(weights.dataType(), inChannels, outChannels, kernel[0], kernel[1]);
    // conv2d's integer arguments: kernel (the delta's height and width), stride 1, no padding,
    // no dilation, not "same" mode, NCHW (0), weights as [oC, iC, kH, kW] (1).
    Nd4j.exec(DynamicCustomOp.builder("conv2d")
        .addInputs(batchAsChannels, deltaAsFilters)
        .addOutputs(out)
        .addIntegerArguments((int) delta.size(2), (int) delta.size(3), 1, 1, 0, 0, 1, 1, 0, 0, 1)
        .build());
    weightGradView.assign(out.permute(1, 0, 2, 3));
    Gradient gradient = new DefaultGradient();
    if (bias != null && biasGradView != null) {
      biasGradView.assign(delta.sum(0, 2, 3).reshape(biasGradView.shape()));
      gradient.gradientForVariable().put("b", biasGradView);
    }
    gradient.gradientForVariable().put("W", weightGradView);
    // No epsilon: this is the network's first layer, and MultiLayerNetwork drops layer 0's epsilon
    // (as for an EmbeddingLayer, which returns none either).
    return new Pair<>(gradient, null);
  }

  @Override
  public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
      AlgoMode mode, FwdAlgo fwdAlgo, ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
      LayerWorkspaceMgr workspaceMgr) {
    return delegate.preOutput(input, weights, bias, kernel, strides, pad, mode, fwdAlgo, convolutionMode, dilation,
        format, workspaceMgr);
  }

  @Override
  public INDArray activate(INDArray z, IActivation afn, boolean training) {
    return delegate.activate(z, afn, training);
  }

  @Override
  public Map<String, Long> helperMemoryUse() {
    return delegate.helperMemoryUse();
  }
}
