package org.medfed.examples.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.model.ModelCatalog;
import org.medfed.models.cpu.OneDnn;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.TrainingPlan;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's side of bench/training-vs-pytorch.sh: trains a catalog model, built the way an agent
 * builds it ({@link ModelCatalog} then {@link Dl4jTrainer#network}), on synthetic batches already in
 * INDArrays, and prints one line {@code samples/s <model> <path> <value> per-cpu-s <value>}: samples
 * per second of wall time, and per second of the process's CPU time (JIT and GC threads included),
 * which a machine busy with other work disturbs far less. The script alternates
 * this with bench/pytorch_throughput.py, which trains the same network with the same optimiser.
 *
 * <p>Arguments: model ({@code small-cnn}: 1×28×28, 10 classes; {@code mlp}: 400-64-4), path
 * ({@code fast}: the default, oneDNN helpers and {@link CacheMode#DEVICE}; {@code plain}: helpers
 * off and no cache, DL4J M2.1 as it comes), then optionally steps (200), warm-up steps (20) and
 * batch size (32). Run with {@code OMP_NUM_THREADS=1} for one thread.
 */
public final class TrainingThroughputBench {
  private TrainingThroughputBench() {}

  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: TrainingThroughputBench small-cnn|mlp fast|plain [steps] [warm-up] [batch]");
      System.exit(2);
    }
    String model = args[0];
    String path = args[1];
    int steps = args.length > 2 ? Integer.parseInt(args[2]) : 200;
    int warmUp = args.length > 3 ? Integer.parseInt(args[3]) : 20;
    int batch = args.length > 4 ? Integer.parseInt(args[4]) : 32;
    boolean plain = switch (path) {
      case "fast" -> false;
      case "plain" -> true;
      default -> throw new IllegalArgumentException("path must be fast or plain, got " + path);
    };
    if (plain) {
      System.setProperty(OneDnn.HELPERS_DISABLE, "true");
    }
    JobSpec spec = JobSpecParser.parse(job(model, batch));
    GlobalModel initial = ModelCatalog.initialModel(spec);
    TrainingPlan plan = new TrainingPlan(initial.configJson(), initial.parameterCount(), spec.inputShape(),
        spec.numClasses(), 1, batch, spec.learningRate(), spec.seed());
    MultiLayerNetwork net = Dl4jTrainer.network(plan, initial.parameters());
    if (plain) {
      net.setCacheMode(CacheMode.NONE);
    }
    List<DataSet> batches = batches(spec, batch, 16);
    for (int i = 0; i < warmUp; i++) {
      net.fit(batches.get(i % batches.size()));
    }
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long startCpu = os.getProcessCpuTime();
    long start = System.nanoTime();
    for (int i = 0; i < steps; i++) {
      net.fit(batches.get(i % batches.size()));
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    double cpuSeconds = (os.getProcessCpuTime() - startCpu) / 1e9;
    double samples = steps * (double) batch;
    System.out.printf(Locale.ROOT, "samples/s %s %s %.1f per-cpu-s %.1f (loss %.4f, oneDNN convolutions %s)%n", model,
        path, samples / seconds, samples / cpuSeconds, net.score(), OneDnn.convolutionsUseOneDnn(net));
  }

  /** Gaussian features and uniformly drawn one-hot labels, cut into batches once, before timing. */
  private static List<DataSet> batches(JobSpec spec, int batch, int count) {
    SplittableRandom random = new SplittableRandom(7);
    long[] shape = new long[spec.inputShape().length + 1];
    shape[0] = batch;
    System.arraycopy(spec.inputShape(), 0, shape, 1, spec.inputShape().length);
    List<DataSet> batches = new ArrayList<>();
    for (int b = 0; b < count; b++) {
      INDArray features = Nd4j.randn(DataType.FLOAT, shape);
      INDArray labels = Nd4j.zeros(DataType.FLOAT, batch, spec.numClasses());
      for (int i = 0; i < batch; i++) {
        labels.putScalar(i, random.nextInt(spec.numClasses()), 1f);
      }
      batches.add(new DataSet(features, labels));
    }
    return batches;
  }

  private static String job(String model, int batch) {
    String shape = switch (model) {
      case "small-cnn" -> "model: {architecture: small-cnn}\ninput_shape: [1, 28, 28]\nnum_classes: 10";
      case "mlp" -> "model: {architecture: mlp, hidden: [64]}\ninput_shape: [400]\nnum_classes: 4";
      default -> throw new IllegalArgumentException("model must be small-cnn or mlp, got " + model);
    };
    return """
        name: throughput
        dataset: synthetic
        %s
        rounds: 1
        min_nodes: 1
        local_epochs: 1
        batch_size: %d
        optimizer: adam
        learning_rate: 0.001
        seed: 1
        """.formatted(shape, batch);
  }
}
