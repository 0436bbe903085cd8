package org.medfed.nodeagent.training;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.medfed.models.cpu.OneDnn;
import org.medfed.models.survival.ConcordanceIndex;
import org.medfed.nodeagent.data.LocalDataset;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains and evaluates DL4J {@link MultiLayerNetwork}s. The optimiser state starts fresh every
 * round, as in FedAvg (McMahan et al. 2017, arXiv 1602.05629): only weights are shared. A plan with
 * a positive mu trains with FedProx's proximal term ({@link ProximalTerm}); a gradient correction is
 * SCAFFOLD's ({@link ControlCorrection}), taken with plain SGD only. Every network it builds runs its
 * convolutions on oneDNN where the layer allows ({@link OneDnn}).
 */
public final class Dl4jTrainer implements LocalTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(Dl4jTrainer.class);
  private static final SecureRandom SECRET_SEEDS = new SecureRandom();
  private static final AtomicBoolean SLOW_PATH_REPORTED = new AtomicBoolean();

  @Override
  public Trained train(TrainingPlan plan, float[] globalParameters, LocalDataset dataset, CancellationToken cancel) {
    return train(plan, globalParameters, Optional.empty(), dataset, cancel);
  }

  /**
   * @throws IllegalArgumentException when the model's updater is not plain SGD, or the plan trains by
   *     DP-SGD: SCAFFOLD's control-variate update reads the mean corrected gradient back from the weight
   *     change, which only SGD steps allow
   */
  @Override
  public Trained train(TrainingPlan plan, float[] globalParameters, float[] gradientCorrection, LocalDataset dataset,
      CancellationToken cancel) {
    if (gradientCorrection.length != globalParameters.length) {
      throw new IllegalArgumentException("a gradient correction of " + gradientCorrection.length
          + " values for a model of " + globalParameters.length);
    }
    return train(plan, globalParameters, Optional.of(gradientCorrection), dataset, cancel);
  }

  private Trained train(TrainingPlan plan, float[] globalParameters, Optional<float[]> correction,
      LocalDataset dataset, CancellationToken cancel) {
    MultiLayerNetwork net = network(plan, globalParameters);
    try {
      return train(net, plan, correction, dataset, cancel);
    } finally {
      release(net);
    }
  }

  private static Trained train(MultiLayerNetwork net, TrainingPlan plan, Optional<float[]> correction,
      LocalDataset dataset, CancellationToken cancel) {
    List<TrainingListener> terms = new ArrayList<>();
    if (plan.proximalMu() > 0) {
      terms.add(new ProximalTerm(net.params().dup(), plan.proximalMu()));
    }
    if (correction.isPresent()) {
      requirePlainSgd(net);
      terms.add(new ControlCorrection(Nd4j.create(correction.get(), new long[] {1, correction.get().length},
          DataType.FLOAT).castTo(net.params().dataType())));
    }
    net.setListeners(terms);
    DataSet train = dataset.train().copy();
    Nd4j.getRandom().setSeed(plan.seed());
    if (plan.dpSgd().isPresent()) {
      if (correction.isPresent()) {
        throw new IllegalArgumentException("SCAFFOLD's correction is not combined with DP-SGD; the job spec refuses"
            + " strategy scaffold with privacy.dp_sgd");
      }
      return trainPrivately(net, plan, plan.dpSgd().get(), dataset, cancel);
    }
    double lossSum = 0;
    int batches = 0;
    long steps = 0;
    // local_epochs passes, or local_steps minibatch steps over as many reshuffled passes as they take.
    long stepsLeft = plan.localSteps() > 0 ? plan.localSteps() : Long.MAX_VALUE;
    boolean bySteps = plan.localSteps() > 0;
    for (int epoch = 0; bySteps ? stepsLeft > 0 && !train.isEmpty() : epoch < plan.localEpochs(); epoch++) {
      train.shuffle(plan.seed() + epoch);
      lossSum = 0;
      batches = 0;
      for (DataSet batch : Minibatches.of(train, plan.batchSize())) {
        if (stepsLeft-- == 0) {
          break;
        }
        cancel.throwIfCancelled();
        net.fit(batch);
        lossSum += net.score();
        batches++;
        steps++;
      }
    }
    float[] parameters = net.params().dup().data().asFloat();
    Map<String, Double> metrics = new LinkedHashMap<>();
    // train_loss is the mean data loss of the last epoch (with any L1/L2 the model configures) and
    // never includes FedProx's proximal term, which only touches gradients: so it compares across
    // rounds and strategies whatever mu is.
    metrics.put("train_loss", batches == 0 ? Double.NaN : lossSum / batches);
    return new Trained(parameters, dataset.trainSamples(), metrics, steps);
  }

  /** SCAFFOLD's option II holds for plain SGD steps only; Adam rescales them and momentum accumulates them. */
  private static void requirePlainSgd(MultiLayerNetwork net) {
    for (int i = 0; i < net.getnLayers(); i++) {
      if (net.getLayerWiseConfigurations().getConf(i).getLayer() instanceof BaseLayer layer) {
        for (IUpdater updater : new IUpdater[] {layer.getIUpdater(), layer.getBiasUpdater()}) {
          if (updater != null && !(updater instanceof Sgd)) {
            throw new IllegalArgumentException("SCAFFOLD needs plain SGD local steps, but layer " + i + " uses "
                + updater.getClass().getSimpleName() + ": the control-variate update (x - y) / (K * lr) reads the mean"
                + " corrected gradient back from the weight change, which only SGD steps allow; set optimizer: sgd");
          }
        }
      }
    }
  }

  /** A DP-SGD round: its train_loss is the mean loss of the records sampled, before clipping and noise. */
  private static Trained trainPrivately(MultiLayerNetwork net, TrainingPlan plan, DpSgdSettings settings,
      LocalDataset dataset, CancellationToken cancel) {
    if (plan.proximalMu() > 0) {
      throw new IllegalArgumentException("FedProx's proximal term is not combined with DP-SGD yet; run the job with"
          + " fedavg or another server-side strategy, or without privacy.dp_sgd");
    }
    // Never the plan's seed: the coordinator knows it and could replay the noise and subtract it.
    long secret = SECRET_SEEDS.nextLong();
    DpSgd.Run run = new DpSgd(net, settings, secret).train(dataset.train(), settings.stepsPerRound(), cancel);
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("train_loss", run.meanLoss());
    return new Trained(net.params().dup().data().asFloat(), dataset.trainSamples(), metrics, run.steps());
  }

  @Override
  public Evaluated evaluate(TrainingPlan plan, float[] parameters, LocalDataset dataset) {
    MultiLayerNetwork net = network(plan, parameters);
    try {
      return evaluate(net, dataset.test());
    } finally {
      release(net);
    }
  }

  /**
   * Frees a network's parameters, gradients and optimiser state off the heap now. Otherwise they go
   * only when a collection finds the network, which a large heap may put off for many rounds: 1000
   * simulated hospitals in one JVM reached 22 GB resident with a 14 GB heap. (DL4J's own
   * {@code close()} frees the same arrays but then forces a full GC.)
   */
  static void release(MultiLayerNetwork net) {
    Updater updater = net.getUpdater(false);
    for (INDArray array : new INDArray[] {net.params(), net.getFlattenedGradients(),
        updater == null ? null : updater.getStateViewArray()}) {
      if (array != null && array.closeable()) {
        array.close();
      }
    }
  }

  /**
   * Accuracy and mean loss of a classifier, or C-index and mean loss of a survival model (one
   * output, labels [time, event]), on a labelled set; shared with the baselines of the demo and the
   * benchmark runners.
   */
  public static Evaluated evaluate(MultiLayerNetwork net, DataSet data) {
    if (data.isEmpty() || data.numExamples() == 0) {
      return new Evaluated(0, Map.of());
    }
    if (isSurvival(net)) {
      return evaluateSurvival(net, data);
    }
    Classified classified = classify(net, data);
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("accuracy", classified.evaluation().accuracy());
    metrics.put("loss", classified.loss());
    return new Evaluated(data.numExamples(), metrics);
  }

  /** A classifier's full DL4J evaluation (per-class figures, confusion matrix) and mean loss on a labelled set. */
  public record Classified(Evaluation evaluation, double loss) {}

  /** Evaluates a classifier on a non-empty labelled set, in batches so large test sets fit in memory. */
  public static Classified classify(MultiLayerNetwork net, DataSet data) {
    Evaluation evaluation = new Evaluation(data.getLabels().columns());
    double lossSum = 0;
    for (DataSet batch : Minibatches.of(data, 256)) {
      INDArray output = net.output(batch.getFeatures(), false);
      evaluation.eval(batch.getLabels(), output);
      lossSum += net.score(batch) * batch.numExamples();
    }
    return new Classified(evaluation, lossSum / data.numExamples());
  }

  /** Whether a network is a survival (Cox) model: one output, a risk score, rather than class probabilities. */
  public static boolean isSurvival(MultiLayerNetwork net) {
    return net.layerSize(net.getnLayers() - 1) == 1;
  }

  private static Evaluated evaluateSurvival(MultiLayerNetwork net, DataSet data) {
    double[] risk = net.output(data.getFeatures(), false).reshape(data.numExamples()).toDoubleVector();
    double[] time = data.getLabels().getColumn(0).toDoubleVector();
    double[] events = data.getLabels().getColumn(1).toDoubleVector();
    boolean[] event = new boolean[events.length];
    for (int i = 0; i < events.length; i++) {
      event[i] = events[i] > 0.5;
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("c_index", ConcordanceIndex.of(time, event, risk));
    metrics.put("loss", net.score(data));
    return new Evaluated(data.numExamples(), metrics);
  }

  /** Builds the network described by the plan and loads the given flat parameter vector into it. */
  public static MultiLayerNetwork network(TrainingPlan plan, float[] parameters) {
    MultiLayerConfiguration configuration;
    try {
      configuration = MultiLayerConfiguration.fromJson(plan.modelConfigJson());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("the job's model configuration is not a valid DL4J "
          + "MultiLayerConfiguration: " + e.getMessage(), e);
    }
    // Before the layers exist: each creates its oneDNN helper, or not, as it is constructed.
    OneDnn.enableHelpers();
    MultiLayerNetwork net = new MultiLayerNetwork(configuration);
    net.init();
    // Keeps im2col results from the forward pass for the backward one: +50% where a convolution
    // runs without its oneDNN helper (helpers switched off, a layer oneDNN does not cover).
    net.setCacheMode(CacheMode.DEVICE);
    OneDnn.skipInputGradient(net);
    if (!OneDnn.convolutionsUseOneDnn(net) && !SLOW_PATH_REPORTED.getAndSet(true)) {
      LOG.warn("convolutions run without oneDNN, about 5x slower (oneDNN in libnd4j: {}, helpers disabled: {});"
          + " see org.medfed.models.cpu.OneDnn", OneDnn.inLibrary(), System.getProperty(OneDnn.HELPERS_DISABLE));
    }
    if (net.numParams() != parameters.length || net.numParams() != plan.parameterCount()) {
      throw new IllegalArgumentException("model has " + net.numParams() + " parameters but the job sent "
          + parameters.length + " (plan says " + plan.parameterCount() + ")");
    }
    net.setParams(Nd4j.create(parameters, new long[] {1, parameters.length}, DataType.FLOAT));
    net.setLearningRate(plan.learningRate());
    return net;
  }

  @Override
  public String toString() {
    return "Dl4jTrainer";
  }
}
