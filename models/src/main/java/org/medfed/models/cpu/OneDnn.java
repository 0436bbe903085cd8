package org.medfed.models.cpu;

import java.lang.reflect.Field;
import java.util.Arrays;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.layers.LayerHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * The fast CPU path for convolutions: DL4J's oneDNN layer helpers on ND4J's {@code -onednn} build.
 *
 * <p>Three things must hold, and DL4J 1.0.0-M2.1 gets two of them wrong by default:
 *
 * <ol>
 *   <li>libnd4j is the {@code linux-x86_64-onednn} build. The poms depend on that classifier instead
 *       of the plain one; JavaCPP tries ND4J's platform extensions in the order its presets list them,
 *       {@code -onednn} first, so it is picked without {@code org.bytedeco.javacpp.platform.extension}.
 *       The generic build, not {@code -onednn-avx2} or {@code -avx512}: oneDNN chooses its kernels for
 *       the CPU at run time, so the generic build runs AVX-512 kernels where the CPU has them and
 *       still starts on one without AVX2.
 *   <li>The helpers are allowed: {@code org.eclipse.deeplearning4j.helpers.disable} defaults to true
 *       in M2.1. {@link #enableHelpers()} sets it to false unless the operator set it.
 *   <li>The helper sees oneDNN: it asks a class ND4J M2.1 no longer has; {@link
 *       org.nd4j.nativeblas.Nd4jCpu} answers for it.
 * </ol>
 *
 * <p>On the small CNN this trains about 5× faster with the same losses step by step (tested in
 * {@code FastConvolutionTest}). NHWC inputs together with the helper stop learning in M2.1, so the
 * catalog's models stay NCHW.
 */
public final class OneDnn {
  /** DL4J's switch, read each time a layer creates its helper; "true" (the default) keeps them off. */
  public static final String HELPERS_DISABLE = "org.eclipse.deeplearning4j.helpers.disable";

  private static volatile Boolean inLibrary;

  private OneDnn() {}

  /**
   * Lets the layers DL4J builds from now on use their oneDNN helpers, unless the process was started
   * with {@code -Dorg.eclipse.deeplearning4j.helpers.disable=true} (the slow path, for comparison).
   * Idempotent; call before creating networks.
   */
  public static void enableHelpers() {
    if (System.getProperty(HELPERS_DISABLE) == null) {
      System.setProperty(HELPERS_DISABLE, "false");
    }
  }

  /** Whether the loaded libnd4j was built with oneDNN (the {@code -onednn} classifier). */
  public static boolean inLibrary() {
    Boolean known = inLibrary;
    if (known == null) {
      known = NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo().contains("HAVE_ONEDNN");
      inLibrary = known;
    }
    return known;
  }

  /** Whether networks created now get oneDNN helpers: the build has oneDNN, DL4J sees it, helpers are allowed. */
  public static boolean active() {
    return !Boolean.parseBoolean(System.getProperty(HELPERS_DISABLE, "true")) && BaseMKLDNNHelper.mklDnnEnabled();
  }

  /**
   * Spares a network's first convolution the gradient with respect to the network's input, which
   * DL4J computes and throws away ({@link InputConvolutionHelper}). Applies when layer 0 is a 2D
   * convolution on oneDNN with stride 1, no dilation, no padding, NCHW and no input preprocessor;
   * otherwise leaves the network as it is. Returns whether it applied.
   */
  public static boolean skipInputGradient(MultiLayerNetwork net) {
    if (net.getnLayers() == 0 || net.getLayerWiseConfigurations().getInputPreProcess(0) != null
        || net.getLayer(0).getClass() != ConvolutionLayer.class) {
      return false;
    }
    ConvolutionLayer layer = (ConvolutionLayer) net.getLayer(0);
    org.deeplearning4j.nn.conf.layers.ConvolutionLayer conf =
        (org.deeplearning4j.nn.conf.layers.ConvolutionLayer) layer.layerConf();
    if (!(layer.getHelper() instanceof MKLDNNConvHelper oneDnn)
        || !Arrays.equals(conf.getStride(), new int[] {1, 1})
        || !Arrays.equals(conf.getDilation(), new int[] {1, 1})
        || !Arrays.equals(conf.getPadding(), new int[] {0, 0})
        || conf.getConvolutionMode() == ConvolutionMode.Same
        || conf.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
      return false;
    }
    try {
      Field helper = ConvolutionLayer.class.getDeclaredField("helper");
      helper.setAccessible(true);
      helper.set(layer, new InputConvolutionHelper(oneDnn));
      return true;
    } catch (ReflectiveOperationException e) {
      // A DL4J without that field: training stays correct, only without this saving.
      return false;
    }
  }

  /**
   * Whether every plain 2D convolution layer of an initialised network runs on oneDNN (vacuously
   * true without any). Its subclasses (1D, depthwise, separable, deconvolution) have no oneDNN
   * helper in DL4J M2.1 and are not counted.
   */
  public static boolean convolutionsUseOneDnn(MultiLayerNetwork net) {
    for (Layer layer : net.getLayers()) {
      if (layer.getClass() == ConvolutionLayer.class && !onOneDnn(((ConvolutionLayer) layer).getHelper())) {
        return false;
      }
    }
    return true;
  }

  /** Whether a convolution layer's helper runs it on oneDNN. */
  public static boolean onOneDnn(LayerHelper helper) {
    return helper instanceof MKLDNNConvHelper || helper instanceof InputConvolutionHelper;
  }
}
