package org.medfed.examples.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.model.ModelCatalog;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.DpSgdSettings;
import org.medfed.nodeagent.training.TrainingPlan;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Benchmark harness (run by bench/dp-sgd-bench.sh): DP-SGD throughput over plain minibatch SGD
 * throughput, for the catalog's MLP and small CNN, through the hospital's real trainer
 * ({@link Dl4jTrainer}) on synthetic data, alternating the two arms in the same run. Plain SGD takes
 * one pass in batches of 32; DP-SGD takes as many steps at q = 32 / N (Poisson sampling, per-record
 * clipping, noise), so both see about N records. Prints records per second per arm (median of the
 * repeats) and the ratio. Arguments: repeats (3), records (1024).
 */
public final class DpSgdBench {
  private static final int BATCH = 32;

  private record Model(String name, String job, long[] shape, int classes) {}

  public static void main(String[] args) {
    int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int records = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
    List<Model> models = List.of(
        new Model("mlp 400-64-4", "model: {architecture: mlp, hidden: [64]}\ninput_shape: [400]\nnum_classes: 4\n",
            new long[] {400}, 4),
        new Model("small-cnn 1x28x28", "model: {architecture: small-cnn}\ninput_shape: [1, 28, 28]\nnum_classes: 4\n",
            new long[] {1, 28, 28}, 4));
    System.out.printf(Locale.ROOT, "DP-SGD against plain SGD, batch %d (q = %d/%d), %d records, median of %d, "
        + "ND4J threads from OMP_NUM_THREADS=%s%n", BATCH, BATCH, records, records, repeats,
        System.getenv().getOrDefault("OMP_NUM_THREADS", "(unset)"));
    for (Model model : models) {
      JobSpec spec = JobSpecParser.parse("name: bench\ndataset: d\nrounds: 1\noptimizer: sgd\nlearning_rate: 0.01\n"
          + model.job());
      GlobalModel initial = ModelCatalog.initialModel(spec);
      TrainingPlan plain = new TrainingPlan(initial.configJson(), initial.parameterCount(), model.shape(),
          model.classes(), 1, BATCH, 0.01, 7);
      TrainingPlan private_ = plain.withDpSgd(new DpSgdSettings(1.0, 1.0, (double) BATCH / records,
          DpSgdSettings.stepsPerRound(plain, records)));
      LocalDataset data = synthetic(model, records);
      Dl4jTrainer trainer = new Dl4jTrainer();
      // Warm-up: JIT, ND4J's workspaces and native libraries.
      trainer.train(plain, initial.parameters(), data, CancellationToken.none());
      trainer.train(private_, initial.parameters(), data, CancellationToken.none());
      List<Double> plainRates = new ArrayList<>();
      List<Double> privateRates = new ArrayList<>();
      for (int r = 0; r < repeats; r++) {
        plainRates.add(recordsPerSecond(trainer, plain, initial, data, records));
        privateRates.add(recordsPerSecond(trainer, private_, initial, data, records));
      }
      double p = median(plainRates);
      double d = median(privateRates);
      System.out.printf(Locale.ROOT, "%-18s plain %8.0f records/s  dp-sgd %8.0f records/s  ratio %.3f%n",
          model.name(), p, d, d / p);
    }
  }

  /** Records a round saw per second; a DP-SGD round samples N records in expectation. */
  private static double recordsPerSecond(Dl4jTrainer trainer, TrainingPlan plan, GlobalModel initial,
      LocalDataset data, int records) {
    long start = System.nanoTime();
    trainer.train(plan, initial.parameters(), data, CancellationToken.none());
    return records / ((System.nanoTime() - start) / 1e9);
  }

  private static LocalDataset synthetic(Model model, int records) {
    SplittableRandom random = new SplittableRandom(11);
    long perRecord = Arrays.stream(model.shape()).reduce(1, (a, b) -> a * b);
    float[] features = new float[(int) (records * perRecord)];
    for (int i = 0; i < features.length; i++) {
      features[i] = (float) random.nextGaussian();
    }
    float[][] labels = new float[records][model.classes()];
    for (float[] label : labels) {
      label[random.nextInt(model.classes())] = 1;
    }
    long[] shape = new long[model.shape().length + 1];
    shape[0] = records;
    System.arraycopy(model.shape(), 0, shape, 1, model.shape().length);
    DataSet train = new DataSet(Nd4j.create(features, shape), Nd4j.create(labels));
    List<String> classes = new ArrayList<>();
    for (int c = 0; c < model.classes(); c++) {
      classes.add("c" + c);
    }
    return new LocalDataset("d", model.shape().length == 1 ? DatasetKind.GENOMIC : DatasetKind.IMAGING,
        model.shape(), classes, train, train);
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }
}
