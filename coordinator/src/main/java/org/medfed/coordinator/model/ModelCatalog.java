package org.medfed.coordinator.model;

import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Convolution3D;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.Subsampling3DLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.medfed.coordinator.job.InvalidJobSpecException;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.ModelSpec;
import org.medfed.coordinator.job.Optimizer;
import org.medfed.models.survival.CoxPartialLikelihood;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Builds a job's initial global model: the built-in architectures, or a user's DL4J JSON. */
public final class ModelCatalog {
  private static final List<Integer> DEFAULT_MLP_HIDDEN = List.of(128, 64);

  private ModelCatalog() {}

  /**
   * @throws InvalidJobSpecException if the architecture does not fit the job's input shape or the
   *     DL4J JSON is not a valid configuration
   */
  /**
   * Builds one tiny network, so that ND4J's native backend and DL4J's classes are loaded: a standby
   * runs it while it waits, so that taking over (which builds every resumed job's model) does not
   * pay seconds for them inside the takeover.
   */
  public static void warmUp() {
    new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list()
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(2).nOut(2)
            .activation(Activation.SOFTMAX).build())
        .build()).init();
  }

  public static GlobalModel initialModel(JobSpec spec) {
    MultiLayerConfiguration configuration = configuration(spec);
    Nd4j.getRandom().setSeed(spec.seed());
    MultiLayerNetwork net = new MultiLayerNetwork(configuration);
    try {
      net.init();
    } catch (RuntimeException e) {
      throw new InvalidJobSpecException("model", "DL4J cannot initialise this model: " + e.getMessage());
    }
    return new GlobalModel(configuration.toJson(), net.params().dup().data().asFloat());
  }

  static MultiLayerConfiguration configuration(JobSpec spec) {
    if (spec.model() instanceof ModelSpec.Dl4jJson custom) {
      try {
        return MultiLayerConfiguration.fromJson(custom.json());
      } catch (RuntimeException e) {
        throw new InvalidJobSpecException("model.dl4j_json", "not a DL4J MultiLayerConfiguration: "
            + firstLine(e.getMessage()));
      }
    }
    ModelSpec.BuiltIn builtIn = (ModelSpec.BuiltIn) spec.model();
    long[] shape = spec.inputShape();
    return switch (builtIn.architecture()) {
      case SMALL_CNN -> {
        if (shape.length != 3 || shape[1] < 12 || shape[2] < 12) {
          throw new InvalidJobSpecException("input_shape", "small-cnn needs [channels, height, width] of at "
              + "least 12x12, got " + Arrays.toString(shape));
        }
        yield smallCnn((int) shape[0], (int) shape[1], (int) shape[2], spec.numClasses(), spec.learningRate(),
            spec.seed(), spec.optimizer(), builtIn.hiddenUnits().isEmpty() ? 64 : builtIn.hiddenUnits().get(0));
      }
      case SMALL_CNN3D -> {
        checkVolume("small-cnn3d", shape);
        yield smallCnn3d((int) shape[0], (int) shape[1], (int) shape[2], (int) shape[3], spec.numClasses(),
            spec.learningRate(), spec.seed(), spec.optimizer(),
            builtIn.hiddenUnits().isEmpty() ? 32 : builtIn.hiddenUnits().get(0));
      }
      case MLP -> {
        if (shape.length != 1) {
          throw new InvalidJobSpecException("input_shape", "mlp needs [features], got "
              + Arrays.toString(shape));
        }
        yield mlp((int) shape[0], spec.numClasses(), spec.learningRate(), spec.seed(), spec.optimizer(),
            builtIn.hiddenUnits().isEmpty() ? DEFAULT_MLP_HIDDEN : builtIn.hiddenUnits());
      }
      case COX -> {
        if (shape.length == 4) {
          checkVolume("cox", shape);
          yield cox3d((int) shape[0], (int) shape[1], (int) shape[2], (int) shape[3], spec.learningRate(), spec.seed(),
              spec.optimizer(), builtIn.hiddenUnits().isEmpty() ? 32 : builtIn.hiddenUnits().get(0));
        }
        if (shape.length != 1) {
          throw new InvalidJobSpecException("input_shape", "cox needs [features], or [channels, depth, height, width]"
              + " for volumes, got " + Arrays.toString(shape));
        }
        yield cox((int) shape[0], spec.learningRate(), spec.seed(), spec.optimizer(), builtIn.hiddenUnits());
      }
    };
  }

  /** conv5x5(8) - maxpool - conv3x3(16) - maxpool - dense - softmax: ~50k parameters at 28x28. */
  static MultiLayerConfiguration smallCnn(int channels, int height, int width, int classes, double lr, long seed,
      Optimizer optimizer, int dense) {
    return new NeuralNetConfiguration.Builder()
        .seed(seed)
        .weightInit(WeightInit.XAVIER)
        .updater(updater(optimizer, lr))
        .list()
        .layer(new ConvolutionLayer.Builder(5, 5).nOut(8).activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(16).activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new DenseLayer.Builder().nOut(dense).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes)
            .activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutional(height, width, channels))
        .build();
  }

  private static void checkVolume(String architecture, long[] shape) {
    if (shape.length != 4 || shape[1] < 4 || shape[2] < 4 || shape[3] < 4) {
      throw new InvalidJobSpecException("input_shape", architecture + " needs [channels, depth, height, width] of at"
          + " least 4x4x4, got " + Arrays.toString(shape));
    }
  }

  /**
   * conv3x3x3(8) - maxpool2 - conv3x3x3(16) - maxpool2 - dense - softmax, in NCDHW (the layout the
   * volume loader gives); "same" padding keeps small volumes (down to 4x4x4) trainable.
   */
  static MultiLayerConfiguration smallCnn3d(int channels, int depth, int height, int width, int classes, double lr,
      long seed, Optimizer optimizer, int dense) {
    return conv3dStack(seed, lr, optimizer, dense)
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes)
            .activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutional3D(Convolution3D.DataFormat.NCDHW, depth, height, width, channels))
        .build();
  }

  /** small-cnn3d's body under a Cox head: one linear risk score per volume, trained on the partial likelihood. */
  static MultiLayerConfiguration cox3d(int channels, int depth, int height, int width, double lr, long seed,
      Optimizer optimizer, int dense) {
    return conv3dStack(seed, lr, optimizer, dense)
        .layer(new OutputLayer.Builder().lossFunction(new CoxPartialLikelihood()).nOut(1)
            .activation(Activation.IDENTITY).build())
        .setInputType(InputType.convolutional3D(Convolution3D.DataFormat.NCDHW, depth, height, width, channels))
        .build();
  }

  /** Two 3D convolution blocks and a dense ReLU layer, the body small-cnn3d and the volumetric Cox model share. */
  private static NeuralNetConfiguration.ListBuilder conv3dStack(long seed, double lr, Optimizer optimizer, int dense) {
    return new NeuralNetConfiguration.Builder()
        .seed(seed)
        .weightInit(WeightInit.XAVIER)
        .updater(updater(optimizer, lr))
        .list()
        .layer(new Convolution3D.Builder(3, 3, 3).nOut(8).convolutionMode(ConvolutionMode.Same)
            .dataFormat(Convolution3D.DataFormat.NCDHW).activation(Activation.RELU).build())
        .layer(new Subsampling3DLayer.Builder(Subsampling3DLayer.PoolingType.MAX).kernelSize(2, 2, 2).stride(2, 2, 2)
            .dataFormat(Convolution3D.DataFormat.NCDHW).build())
        .layer(new Convolution3D.Builder(3, 3, 3).nOut(16).convolutionMode(ConvolutionMode.Same)
            .dataFormat(Convolution3D.DataFormat.NCDHW).activation(Activation.RELU).build())
        .layer(new Subsampling3DLayer.Builder(Subsampling3DLayer.PoolingType.MAX).kernelSize(2, 2, 2).stride(2, 2, 2)
            .dataFormat(Convolution3D.DataFormat.NCDHW).build())
        .layer(new DenseLayer.Builder().nOut(dense).activation(Activation.RELU).build());
  }

  static MultiLayerConfiguration mlp(int features, int classes, double lr, long seed, Optimizer optimizer,
      List<Integer> hidden) {
    return denseStack(seed, lr, optimizer, hidden)
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes)
            .activation(Activation.SOFTMAX).build())
        .setInputType(InputType.feedForward(features))
        .build();
  }

  /**
   * Cox proportional hazards: optional hidden layers, then one linear risk score trained on the
   * negative partial log-likelihood (no hidden layers: the classic linear Cox model).
   */
  static MultiLayerConfiguration cox(int features, double lr, long seed, Optimizer optimizer, List<Integer> hidden) {
    return denseStack(seed, lr, optimizer, hidden)
        .layer(new OutputLayer.Builder().lossFunction(new CoxPartialLikelihood()).nOut(1)
            .activation(Activation.IDENTITY).build())
        .setInputType(InputType.feedForward(features))
        .build();
  }

  /** Fully connected ReLU layers, the body both the MLP and the deep Cox model put their heads on. */
  private static NeuralNetConfiguration.ListBuilder denseStack(long seed, double lr, Optimizer optimizer,
      List<Integer> hidden) {
    NeuralNetConfiguration.ListBuilder builder = new NeuralNetConfiguration.Builder()
        .seed(seed)
        .weightInit(WeightInit.XAVIER)
        .updater(updater(optimizer, lr))
        .list();
    for (int units : hidden) {
      builder.layer(new DenseLayer.Builder().nOut(units).activation(Activation.RELU).build());
    }
    return builder;
  }

  static IUpdater updater(Optimizer optimizer, double lr) {
    return switch (optimizer) {
      case ADAM -> new Adam(lr);
      case SGD -> new Sgd(lr);
      case NESTEROV -> new Nesterovs(lr, 0.9);
    };
  }

  private static String firstLine(String message) {
    return message == null ? "unreadable" : message.lines().findFirst().orElse(message);
  }
}
