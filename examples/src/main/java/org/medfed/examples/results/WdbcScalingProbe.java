package org.medfed.examples.results;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.model.ModelCatalog;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetLoaders;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.TrainingPlan;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A diagnostic beside {@link WdbcBenchmark}: the same hospitals, model and budget, but FedAvg's
 * arithmetic run in one process (each hospital's round through the agent's own {@link Dl4jTrainer},
 * the sample-weighted mean of the deltas in the clear, no gRPC or secure aggregation, whose mean
 * equals this one's up to its quantization error). It compares the benchmark's {@code log1p}
 * features with {@code log1p} followed by a z-score whose statistics are the consortium's: the
 * per-feature mean and standard deviation of the union of the hospitals' training splits, which
 * a secure sum of each hospital's count, sum and sum of squares gives exactly. medfed cannot yet
 * compute those statistics inside a job; this measures what it would buy, against a pooled model
 * trained on the same features.
 */
@Command(name = "wdbc-scaling-probe", mixinStandardHelpOptions = true,
    description = "WDBC: FedAvg and pooled with log1p features, and with consortium-wide z-scores on top.")
public final class WdbcScalingProbe implements Callable<Integer> {
  @Option(names = "--data", defaultValue = "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv",
      description = "breast_cancer.csv from Debian's python3-sklearn (default: ${DEFAULT-VALUE}).")
  Path data;

  @Option(names = "--work-dir", defaultValue = "results-out/wdbc-scaling", description = "Hospital folders.")
  Path work;

  @Option(names = "--seeds", split = ",", defaultValue = "1,2,3", description = "Seeds (default: ${DEFAULT-VALUE}).")
  List<Long> seeds;

  @Option(names = "--rounds", defaultValue = "40", description = "FedAvg rounds (default: ${DEFAULT-VALUE}).")
  int rounds;

  public static void main(String[] args) {
    System.exit(new CommandLine(new WdbcScalingProbe()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(data)) {
      System.err.println("wdbc-scaling-probe: " + data + " not found; install python3-sklearn or pass --data");
      return 2;
    }
    WdbcBenchmark layout = new WdbcBenchmark();
    layout.alpha = 0.5;
    List<String> lines = Files.readAllLines(data, StandardCharsets.UTF_8);
    Map<String, List<Double>> results = new LinkedHashMap<>();
    for (long seed : seeds) {
      List<DatasetDeclaration> declarations = layout.layOut(WdbcBenchmark.rows(lines), WdbcBenchmark.labels(lines),
          seed, work.resolve("seed-" + seed).resolve("hospitals"));
      List<LocalDataset> log1p = new ArrayList<>();
      for (DatasetDeclaration declaration : declarations) {
        log1p.add(DatasetLoaders.load(declaration));
      }
      List<LocalDataset> consortium = consortiumZScore(log1p);
      JobSpec spec = JobSpecParser.parse(job(seed));
      GlobalModel initial = ModelCatalog.initialModel(spec);
      TrainingPlan plan = new TrainingPlan(initial.configJson(), initial.parameterCount(), spec.inputShape(),
          WdbcBenchmark.CLASSES.size(), spec.localEpochs(), spec.batchSize(), spec.learningRate(), seed);
      for (var scaling : Map.of("log1p", log1p, "log1p + consortium z-score", consortium).entrySet().stream()
          .sorted(Map.Entry.comparingByKey()).toList()) {
        DataSet heldOut = DataSet.merge(scaling.getValue().stream().map(LocalDataset::test).toList());
        results.computeIfAbsent("pooled, " + scaling.getKey(), key -> new ArrayList<>())
            .add(accuracy(plan, pooled(plan, initial, scaling.getValue(), heldOut), heldOut));
        results.computeIfAbsent("FedAvg, " + scaling.getKey(), key -> new ArrayList<>())
            .add(accuracy(plan, fedAvg(plan, initial, scaling.getValue()), heldOut));
      }
      System.out.printf(Locale.ROOT, "seed %d done%n", seed);
    }
    System.out.printf(Locale.ROOT, "%n| method | accuracy, mean ± sd over seeds %s | per seed |%n|---|---|---|%n", seeds);
    results.forEach((method, values) -> {
      double mean = values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
      double sd = Math.sqrt(values.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum()
          / Math.max(1, values.size() - 1));
      System.out.printf(Locale.ROOT, "| %s | %.3f ± %.3f | %s |%n", method, mean, sd,
          values.stream().map(v -> String.format(Locale.ROOT, "%.3f", v)).toList());
    });
    return 0;
  }

  private String job(long seed) {
    return """
        name: wdbc
        dataset: wdbc
        model: {architecture: mlp, hidden: [16]}
        input_shape: [30]
        num_classes: 2
        rounds: %d
        min_nodes: 3
        local_epochs: 1
        batch_size: 16
        strategy: {name: fedavg}
        seed: %d
        learning_rate: 0.01
        """.formatted(rounds, seed);
  }

  /**
   * Every hospital's features z-scored with the consortium's statistics: from each hospital's
   * training count, per-feature sum and sum of squares, added up as a secure sum would add them.
   */
  static List<LocalDataset> consortiumZScore(List<LocalDataset> hospitals) {
    int features = (int) hospitals.get(0).train().getFeatures().columns();
    double[] sum = new double[features];
    double[] squares = new double[features];
    long count = 0;
    for (LocalDataset hospital : hospitals) {
      double[][] x = hospital.train().getFeatures().toDoubleMatrix();
      for (double[] row : x) {
        for (int j = 0; j < features; j++) {
          sum[j] += row[j];
          squares[j] += row[j] * row[j];
        }
      }
      count += x.length;
    }
    double[] mean = new double[features];
    double[] scale = new double[features];
    for (int j = 0; j < features; j++) {
      mean[j] = sum[j] / count;
      double variance = Math.max(0, squares[j] / count - mean[j] * mean[j]);
      scale[j] = variance > 1e-24 ? Math.sqrt(variance) : 1;
    }
    List<LocalDataset> out = new ArrayList<>();
    for (LocalDataset h : hospitals) {
      out.add(new LocalDataset(h.name(), h.kind(), h.inputShape(), h.classes(), scaled(h.train(), mean, scale),
          scaled(h.test(), mean, scale), h.featureNames()));
    }
    return out;
  }

  private static DataSet scaled(DataSet data, double[] mean, double[] scale) {
    INDArray x = data.getFeatures();
    INDArray shift = Nd4j.createFromArray(mean).reshape(1, mean.length).castTo(x.dataType());
    INDArray divisor = Nd4j.createFromArray(scale).reshape(1, scale.length).castTo(x.dataType());
    return new DataSet(x.subRowVector(shift).divRowVector(divisor), data.getLabels());
  }

  /** The benchmark's pooled baseline: rounds x local epochs passes over all training splits in one call. */
  private float[] pooled(TrainingPlan plan, GlobalModel initial, List<LocalDataset> hospitals,
      DataSet heldOut) {
    LocalDataset first = hospitals.get(0);
    LocalDataset all = new LocalDataset("pooled", first.kind(), first.inputShape(), first.classes(),
        DataSet.merge(hospitals.stream().map(LocalDataset::train).toList()), heldOut);
    return new Dl4jTrainer().train(plan.withLocalEpochs(plan.localEpochs() * rounds), initial.parameters(), all,
        CancellationToken.none()).parameters();
  }

  /** FedAvg (McMahan et al. 2017, arXiv 1602.05629) over all hospitals each round, sample-weighted. */
  private float[] fedAvg(TrainingPlan plan, GlobalModel initial, List<LocalDataset> hospitals) {
    float[] global = initial.parameters();
    Dl4jTrainer trainer = new Dl4jTrainer();
    for (int round = 1; round <= rounds; round++) {
      double[] sum = new double[global.length];
      long samples = 0;
      for (LocalDataset hospital : hospitals) {
        var trained = trainer.train(plan.forRound(round), global, hospital, CancellationToken.none());
        float[] local = trained.parameters();
        for (int i = 0; i < global.length; i++) {
          sum[i] += (double) trained.numSamples() * (local[i] - global[i]);
        }
        samples += trained.numSamples();
      }
      float[] next = new float[global.length];
      for (int i = 0; i < global.length; i++) {
        next[i] = (float) (global[i] + sum[i] / samples);
      }
      global = next;
    }
    return global;
  }

  private static double accuracy(TrainingPlan plan, float[] parameters, DataSet heldOut) {
    return Dl4jTrainer.evaluate(Dl4jTrainer.network(plan, parameters), heldOut).metrics().get("accuracy");
  }
}
