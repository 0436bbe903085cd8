package org.medfed.examples.results;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.model.ModelCatalog;
import org.medfed.examples.synthetic.LabelSkew;
import org.medfed.models.archive.ModelArchive;
import org.medfed.nodeagent.data.ConsortiumScaling;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.DatasetLoaders;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.data.Normalisation;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.TrainingPlan;
import org.medfed.wire.FeatureStatistics;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Breast Cancer Wisconsin (Diagnostic), 569 real cases, split across 3 hospitals with Dirichlet
 * label skew: each hospital alone, all data pooled, and federated (FedAvg, secure aggregation,
 * mutual TLS), all scored by accuracy on the union of the hospitals' held-out splits. Each hospital
 * holds {@code train.csv}/{@code test.csv} and standardises with its own training statistics.
 */
@Command(name = "wdbc-benchmark", mixinStandardHelpOptions = true,
    description = "WDBC across 3 hospitals with label skew: local, pooled and federated accuracy.")
public final class WdbcBenchmark implements Callable<Integer> {
  static final int HOSPITALS = 3;
  static final List<String> CLASSES = List.of("malignant", "benign");

  @Option(names = "--data", defaultValue = "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv",
      description = "breast_cancer.csv from Debian's python3-sklearn (default: ${DEFAULT-VALUE}).")
  Path data;

  @Option(names = "--work-dir", defaultValue = "results-out/wdbc", description = "Hospital folders, kits, logs.")
  Path work;

  @Option(names = "--seeds", split = ",", defaultValue = "1,2,3", description = "Seeds (default: ${DEFAULT-VALUE}).")
  List<Long> seeds;

  @Option(names = "--alpha", defaultValue = "0.5", description = "Dirichlet label-skew concentration (default: ${DEFAULT-VALUE}).")
  double alpha;

  @Option(names = "--rounds", defaultValue = "40", description = "Federated rounds (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--strategies", split = ",", defaultValue = "fedavgm", description = "Federated strategies, each"
      + " with its defaults (fedavgm: server momentum 0.8); robust rules run without secure aggregation, which they"
      + " cannot take (default: ${DEFAULT-VALUE}).")
  List<String> strategies;

  @Option(names = "--dp-epsilons", split = ",", description = "Also run the first strategy with record-level DP-SGD"
      + " at each of these epsilons (delta 1e-5, clip 1.0), e.g. 1,3,8.")
  List<Double> dpEpsilons = List.of();

  @Option(names = "--feature-scaling", defaultValue = "none", description = "The federated jobs' feature_scaling:"
      + " none (each hospital's own log1p only) or consortium-zscore (log1p, then z-scores with the consortium's"
      + " pooled statistics, measured under secure aggregation); with consortium-zscore the pooled baseline is also"
      + " trained on pooled z-scores (default: ${DEFAULT-VALUE}).")
  String featureScaling;

  public static void main(String[] args) {
    System.exit(new CommandLine(new WdbcBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(data)) {
      System.err.println("wdbc-benchmark: " + data + " not found; install it with `apt-get install python3-sklearn`"
          + " or pass --data");
      return 2;
    }
    List<String> lines = Files.readAllLines(data, StandardCharsets.UTF_8);
    List<float[]> rows = rows(lines);
    List<Integer> labels = labels(lines);
    Map<String, List<Double>> results = new LinkedHashMap<>();
    for (long seed : seeds) {
      Path sites = work.resolve("seed-" + seed).resolve("hospitals");
      List<DatasetDeclaration> declarations = layOut(rows, labels, seed, sites);
      List<LocalDataset> datasets = new ArrayList<>();
      for (DatasetDeclaration declaration : declarations) {
        datasets.add(DatasetLoaders.load(declaration));
      }
      DataSet heldOut = DataSet.merge(datasets.stream().map(LocalDataset::test).toList());
      // The baselines train as FedAvg's hospitals do (Adam 0.01), whichever strategy comes first.
      JobSpec spec = JobSpecParser.parse(job(seed, "fedavg", ""));
      GlobalModel initial = ModelCatalog.initialModel(spec);
      // Baselines get the federated job's budget: rounds x local epochs passes over their data.
      TrainingPlan plan = new TrainingPlan(initial.configJson(), initial.parameterCount(), spec.inputShape(),
          CLASSES.size(), spec.rounds() * spec.localEpochs(), spec.batchSize(), spec.learningRate(), seed);
      for (int k = 0; k < HOSPITALS; k++) {
        results.computeIfAbsent("local " + k, key -> new ArrayList<>())
            .add(accuracy(train(plan, initial, datasets.get(k)), heldOut));
      }
      LocalDataset first = datasets.get(0);
      LocalDataset pooled = new LocalDataset("pooled", first.kind(), first.inputShape(), CLASSES,
          DataSet.merge(datasets.stream().map(LocalDataset::train).toList()), heldOut);
      results.computeIfAbsent("pooled", key -> new ArrayList<>()).add(accuracy(train(plan, initial, pooled), heldOut));
      boolean zscore = featureScaling.equals("consortium-zscore");
      if (zscore) {
        // The central reference for z-scored federation: the same statistics, taken where all the data is.
        FeatureStatistics.Scaling central = pooledScaling(pooled.train().getFeatures());
        LocalDataset scaled = ConsortiumScaling.apply(pooled, central);
        results.computeIfAbsent("pooled, z-scored", key -> new ArrayList<>())
            .add(accuracy(train(plan, initial, scaled), scaled.test()));
      }
      try (InProcessConsortium federation = new InProcessConsortium(work.resolve("seed-" + seed), "wdbc",
          declarations, datasets)) {
        for (String strategy : strategies) {
          String arm = strategy + (ROBUST.contains(strategy) ? " (in the clear)" : " (secure aggregation)");
          if (zscore) {
            ModelArchive.Opened model = federation.archive(job(seed, strategy, "feature_scaling: consortium-zscore\n"));
            INDArray x = ConsortiumScaling.apply(heldOut.getFeatures(), new FeatureStatistics.Scaling(
                model.info().featureMean(), model.info().featureScale()));
            results.computeIfAbsent(arm + ", consortium z-scores", key -> new ArrayList<>())
                .add(accuracy(model.network(), new DataSet(x, heldOut.getLabels())));
          } else {
            results.computeIfAbsent(arm, key -> new ArrayList<>())
                .add(accuracy(federation.run(job(seed, strategy, "")), heldOut));
          }
        }
        for (double epsilon : dpEpsilons) {
          String privacy = String.format(Locale.ROOT, "privacy: {dp_sgd: {epsilon: %s, delta: 1.0e-5, clip: 1.0}}%n",
              epsilon);
          results.computeIfAbsent(String.format(Locale.ROOT, "%s, DP-SGD epsilon %s (secure aggregation)",
              strategies.get(0), epsilon), key -> new ArrayList<>())
              .add(accuracy(federation.run(job(seed, strategies.get(0), privacy)), heldOut));
        }
      }
      System.out.printf(Locale.ROOT, "seed %d: hospitals hold %s (malignant/benign, train+test)%n", seed,
          datasets.stream().map(d -> counts(d)).toList());
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

  /** Each column's mean and population standard deviation, as the federated passes estimate them. */
  private static FeatureStatistics.Scaling pooledScaling(INDArray train) {
    INDArray x = train.castTo(DataType.DOUBLE);
    double[] mean = x.mean(0).toDoubleVector();
    double[] sd = x.std(false, 0).toDoubleVector();
    float[] m = new float[mean.length];
    float[] s = new float[mean.length];
    for (int j = 0; j < mean.length; j++) {
      m[j] = (float) mean[j];
      s[j] = (float) (sd[j] > 0 ? sd[j] : 1);
    }
    return new FeatureStatistics.Scaling(m, s);
  }

  /** The 30 features of each case in breast_cancer.csv (after its header line). */
  static List<float[]> rows(List<String> lines) {
    List<float[]> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] cells = line.split(",");
      float[] row = new float[cells.length - 1];
      for (int j = 0; j < row.length; j++) {
        row[j] = Float.parseFloat(cells[j]);
      }
      rows.add(row);
    }
    return rows;
  }

  /** Each case's label in breast_cancer.csv: 0 malignant, 1 benign. */
  static List<Integer> labels(List<String> lines) {
    List<Integer> labels = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] cells = line.split(",");
      labels.add(Integer.parseInt(cells[cells.length - 1].trim()));
    }
    return labels;
  }

  /** Rules that need each hospital's update, and so run with secure aggregation off. */
  private static final List<String> ROBUST = List.of("fedmedian", "fedtrimmedavg", "krum", "multikrum");

  private String job(long seed, String strategy, String extra) {
    String settings = switch (strategy) {
      // Server momentum (Hsu et al. 2019) steadies FedAvg under this strong label skew.
      case "fedavgm" -> "{name: fedavgm, server_momentum: 0.8}";
      case "krum" -> "{name: krum, byzantine: 0}";
      case "multikrum" -> "{name: multikrum, byzantine: 0, selected: 2}";
      default -> "{name: " + strategy + "}";
    };
    // SCAFFOLD reads a hospital's corrected gradient back from plain SGD steps (JobSpec refuses Adam);
    // SGD needs a larger step than Adam's 0.01 on this MLP.
    String optimizer = strategy.equals("scaffold") ? "optimizer: sgd\nlearning_rate: 0.1\n" : "learning_rate: 0.01\n";
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
        strategy: %s
        seed: %d
        deadlines: {selection: 1m, training: 2m, evaluation: 1m}
        """.formatted(rounds, settings, seed) + optimizer + (ROBUST.contains(strategy) ? "secure_aggregation: false\n" : "") + extra;
  }

  /** Deals the cases to the hospitals with Dirichlet label skew; each keeps a quarter of its cases for testing. */
  List<DatasetDeclaration> layOut(List<float[]> rows, List<Integer> labels, long seed, Path sites)
      throws IOException {
    Random random = new Random(seed);
    List<List<Integer>> byHospital = new ArrayList<>();
    for (int k = 0; k < HOSPITALS; k++) {
      byHospital.add(new ArrayList<>());
    }
    for (int label = 0; label < CLASSES.size(); label++) {
      List<Integer> cases = new ArrayList<>();
      for (int i = 0; i < labels.size(); i++) {
        if (labels.get(i) == label) {
          cases.add(i);
        }
      }
      Collections.shuffle(cases, random);
      int[][] counts = LabelSkew.counts(HOSPITALS, 1, cases.size(), alpha, random);
      int next = 0;
      for (int k = 0; k < HOSPITALS; k++) {
        byHospital.get(k).addAll(cases.subList(next, next + counts[k][0]));
        next += counts[k][0];
      }
    }
    List<DatasetDeclaration> declarations = new ArrayList<>();
    for (int k = 0; k < HOSPITALS; k++) {
      List<Integer> cases = byHospital.get(k);
      Collections.shuffle(cases, random);
      Path dir = sites.resolve("site-" + k).resolve("wdbc");
      Files.createDirectories(dir);
      int test = cases.size() / 4;
      write(dir.resolve("test.csv"), cases.subList(0, test), rows, labels);
      write(dir.resolve("train.csv"), cases.subList(test, cases.size()), rows, labels);
      declarations.add(new DatasetDeclaration("wdbc", DatasetKind.CLINICAL, DatasetFormat.CSV_MATRIX, dir, CLASSES,
          DatasetDeclaration.Options.DEFAULTS.withNormalisation(Normalisation.LOG1P)));
    }
    return declarations;
  }

  private static void write(Path file, List<Integer> cases, List<float[]> rows, List<Integer> labels)
      throws IOException {
    try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      StringBuilder header = new StringBuilder("sample_id,label");
      for (int j = 0; j < 30; j++) {
        header.append(",f").append(j);
      }
      out.write(header.toString());
      out.newLine();
      for (int i : cases) {
        StringBuilder line = new StringBuilder("case-" + i + "," + CLASSES.get(labels.get(i)));
        for (float value : rows.get(i)) {
          line.append(',').append(value);
        }
        out.write(line.toString());
        out.newLine();
      }
    }
  }

  private static MultiLayerNetwork train(TrainingPlan plan, GlobalModel initial, LocalDataset data) {
    var trained = new Dl4jTrainer().train(plan, initial.parameters(), data, CancellationToken.none());
    return Dl4jTrainer.network(plan, trained.parameters());
  }

  private static double accuracy(MultiLayerNetwork model, DataSet heldOut) {
    return Dl4jTrainer.evaluate(model, heldOut).metrics().get("accuracy");
  }

  private static String counts(LocalDataset d) {
    DataSet all = DataSet.merge(List.of(d.train(), d.test()));
    double malignant = all.getLabels().getColumn(0).sumNumber().doubleValue();
    return (int) malignant + "/" + (int) (all.numExamples() - malignant);
  }
}
