package org.medfed.examples.synthetic;

import java.awt.image.BufferedImage;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import javax.imageio.ImageIO;
import org.medfed.examples.Directories;

/**
 * Writes a synthetic consortium to disk the way hospitals would hold it: per hospital a folder of
 * PNG scans by class, an expression matrix as CSV, and an agent configuration declaring both.
 * Deterministic for a given seed.
 */
public final class SyntheticConsortium {
  public static final String IMAGING_DATASET = "scans";
  public static final String GENOMIC_DATASET = "expression";
  public static final int IMAGE_SIZE = 28;
  public static final int GENES = 400;
  public static final String VOLUME_DATASET = "volumes";
  /** Voxels a side: small enough that a 3D network trains in seconds per round on two cores. */
  public static final int VOLUME_SIZE = 12;

  /**
   * @param trainPerHospital average number of training samples per hospital and task; each
   *     hospital also gets a held-out test split a third that size, drawn from its own distribution
   * @param volumesPerHospital the same for CT volumes, written only when positive (volumes are
   *     slower to write, load and train, so only the volumetric task asks for them)
   */
  public record Settings(int hospitals, int trainPerHospital, double dirichletAlpha, long seed,
      int volumesPerHospital) {
    public Settings {
      if (hospitals < 2) {
        throw new IllegalArgumentException("a consortium needs at least 2 hospitals, got " + hospitals);
      }
      if (volumesPerHospital < 0) {
        throw new IllegalArgumentException("volumesPerHospital must be >= 0, got " + volumesPerHospital);
      }
    }

    /** Imaging and genomic data only. */
    public Settings(int hospitals, int trainPerHospital, double dirichletAlpha, long seed) {
      this(hospitals, trainPerHospital, dirichletAlpha, seed, 0);
    }

    boolean volumes() {
      return volumesPerHospital > 0;
    }

    List<String> datasets() {
      return volumes() ? List.of(IMAGING_DATASET, GENOMIC_DATASET, VOLUME_DATASET)
          : List.of(IMAGING_DATASET, GENOMIC_DATASET);
    }
  }

  /** One generated hospital: its id, folder and agent configuration file. */
  public record Hospital(String id, Path directory, Path agentConfig) {}

  private SyntheticConsortium() {}

  public static String hospitalId(int index) {
    return "hospital-" + (char) ('a' + index);
  }

  /**
   * Writes the hospitals' data and agent configurations. With {@code kits} (a folder `medfed
   * provision` wrote) each agent uses its startup kit for mutual TLS; without, it runs in plaintext
   * development mode. Demo agents approve jobs automatically. With volumes, hospital a holds DICOM
   * series, b NIfTI files and c multi-frame DICOM (then round again), see {@link StudyFormat}.
   */
  public static List<Hospital> write(Path root, Settings settings, String coordinatorAddress, Optional<Path> kits) {
    Random random = new Random(settings.seed());
    int h = settings.hospitals();
    ScanGenerator scans = new ScanGenerator(IMAGE_SIZE);
    ExpressionGenerator expression = new ExpressionGenerator(GENES, settings.seed() + 1);
    int perClassImaging = settings.trainPerHospital() * h * 4 / 3 / ScanGenerator.CLASSES.size();
    int perClassGenomic = settings.trainPerHospital() * h * 4 / 3 / ExpressionGenerator.CLASSES.size();
    int[][] imagingCounts = LabelSkew.counts(h, ScanGenerator.CLASSES.size(), perClassImaging,
        settings.dirichletAlpha(), random);
    int[][] genomicCounts = LabelSkew.counts(h, ExpressionGenerator.CLASSES.size(), perClassGenomic,
        settings.dirichletAlpha(), random);
    // Drawn after the other tasks' counts, so that asking for volumes leaves their data as it was.
    int[][] volumeCounts = settings.volumes() ? LabelSkew.mixes(h, VolumeGenerator.CLASSES.size(),
        settings.volumesPerHospital() * 4 / 3, settings.dirichletAlpha(), random) : null;
    List<Hospital> hospitals = new ArrayList<>();
    try {
      for (int i = 0; i < h; i++) {
        String id = hospitalId(i);
        Path dir = root.resolve(id);
        Random site = new Random(settings.seed() * 7919 + i);
        writeScans(dir.resolve(IMAGING_DATASET), scans, ScannerProfile.draw(site), imagingCounts[i], site);
        writeExpression(dir.resolve(GENOMIC_DATASET), expression, expression.batchEffect(site), genomicCounts[i], site);
        if (settings.volumes()) {
          // A random of its own, for the same reason as the counts.
          Random volumeSite = new Random(settings.seed() * 7927 + i);
          writeVolumes(dir.resolve(VOLUME_DATASET), StudyFormat.values()[i % StudyFormat.values().length],
              ScannerProfile.draw(volumeSite), volumeCounts[i], volumeSite);
        }
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, agentConfig(id, coordinatorAddress, kits.map(k -> k.resolve("hospitals").resolve(id)),
            settings.volumes()));
        hospitals.add(new Hospital(id, dir, config));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write synthetic data under " + root, e);
    }
    return hospitals;
  }

  /**
   * Puts synthetic data into startup kits that `medfed provision` wrote for hospital-a,
   * hospital-b, ...: each kit gets {@code data/scans} and {@code data/expression}, and its
   * {@code agent.yaml} declares them in place of the empty dataset list. For trying a consortium
   * by hand; the kits' approval settings are left as they are.
   */
  public static List<Path> fillKits(Path kits, Settings settings) {
    Path staging = kits.resolve(".synthetic");
    List<Hospital> generated = write(staging, settings, "unused:1", Optional.empty());
    List<Path> filled = new ArrayList<>();
    try {
      for (Hospital hospital : generated) {
        Path kit = kits.resolve("hospitals").resolve(hospital.id());
        Path config = kit.resolve("agent.yaml");
        if (!Files.isRegularFile(config)) {
          throw new IllegalArgumentException("no startup kit for " + hospital.id() + " at " + kit
              + "; list it under hospitals: in the consortium file and run `medfed provision`");
        }
        Files.createDirectories(kit.resolve("data"));
        for (String dataset : settings.datasets()) {
          Path target = kit.resolve("data").resolve(dataset);
          if (Files.exists(target)) {
            throw new IllegalArgumentException(target + " already exists; remove it to regenerate");
          }
          Files.move(hospital.directory().resolve(dataset), target);
        }
        String yaml = Files.readString(config);
        if (!yaml.contains("datasets: []")) {
          throw new IllegalArgumentException(config + " already declares datasets; edit it by hand");
        }
        Files.writeString(config, yaml.replace("datasets: []\n", "datasets:\n" + datasetsYaml("data/", settings.volumes())));
        filled.add(kit);
      }
      Directories.deleteRecursively(staging);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fill the kits under " + kits, e);
    }
    return filled;
  }


  private static void writeScans(Path dir, ScanGenerator generator, ScannerProfile scanner, int[] perClass,
      Random random) throws IOException {
    for (int c = 0; c < perClass.length; c++) {
      int test = perClass[c] / 4;
      for (int n = 0; n < perClass[c]; n++) {
        String split = n < test ? "test" : "train";
        Path folder = dir.resolve(split).resolve(ScanGenerator.CLASSES.get(c));
        Files.createDirectories(folder);
        float[] pixels = generator.image(c, scanner, random);
        BufferedImage image = new BufferedImage(generator.size(), generator.size(), BufferedImage.TYPE_BYTE_GRAY);
        var raster = image.getRaster();
        for (int y = 0; y < generator.size(); y++) {
          for (int x = 0; x < generator.size(); x++) {
            raster.setSample(x, y, 0, Math.round(pixels[y * generator.size() + x] * 255));
          }
        }
        ImageIO.write(image, "png", folder.resolve(String.format("scan-%04d.png", n)).toFile());
      }
    }
    // Splits must exist even when a hospital has no sample of any class in them.
    Files.createDirectories(dir.resolve("train"));
    Files.createDirectories(dir.resolve("test"));
  }

  private static void writeVolumes(Path dir, StudyFormat format, ScannerProfile scanner, int[] perClass,
      Random random) throws IOException {
    VolumeGenerator generator = new VolumeGenerator(VOLUME_SIZE);
    for (int c = 0; c < perClass.length; c++) {
      int test = perClass[c] / 4;
      for (int n = 0; n < perClass[c]; n++) {
        Path folder = dir.resolve(n < test ? "test" : "train").resolve(VolumeGenerator.CLASSES.get(c));
        format.write(folder, String.format("study-%04d", n), generator.volume(c, scanner, random), VOLUME_SIZE,
            random);
      }
    }
    Files.createDirectories(dir.resolve("train"));
    Files.createDirectories(dir.resolve("test"));
  }

  private static void writeExpression(Path dir, ExpressionGenerator generator, ExpressionGenerator.BatchEffect batch,
      int[] perClass, Random random) throws IOException {
    Files.createDirectories(dir);
    String header = "sample_id,label," + String.join(",", generator.geneNames());
    try (BufferedWriter train = Files.newBufferedWriter(dir.resolve("train.csv"));
        BufferedWriter test = Files.newBufferedWriter(dir.resolve("test.csv"))) {
      train.write(header);
      train.newLine();
      test.write(header);
      test.newLine();
      int sample = 0;
      for (int c = 0; c < perClass.length; c++) {
        int testCount = perClass[c] / 4;
        for (int n = 0; n < perClass[c]; n++) {
          float[] x = generator.sample(c, batch, random);
          StringBuilder row = new StringBuilder().append("S").append(sample++).append(',')
              .append(ExpressionGenerator.CLASSES.get(c));
          for (float v : x) {
            row.append(',').append(String.format(Locale.ROOT, "%.4f", v));
          }
          BufferedWriter out = n < testCount ? test : train;
          out.write(row.toString());
          out.newLine();
        }
      }
    }
  }

  static String agentConfig(String id, String coordinatorAddress, Optional<Path> kit, boolean volumes) {
    String security = kit.map(k -> """
        tls:
          certificate: %s
          private_key: %s
          ca: %s
        """.formatted(k.resolve(id + ".crt").toAbsolutePath(), k.resolve(id + ".key").toAbsolutePath(),
        k.resolve("ca.crt").toAbsolutePath())).orElse("insecure_plaintext: true\n");
    return """
        # Node agent configuration for %s (generated by the medfed demo).
        node_id: %s
        coordinator: %s
        %s# A demo consortium: jobs are approved automatically. Real hospitals approve each job digest.
        auto_approve_jobs: true
        state_dir: state
        datasets:
        """.formatted(id, id, coordinatorAddress, security) + datasetsYaml("", volumes);
  }

  /** The datasets' declarations, as list items under {@code datasets:}. */
  static String datasetsYaml(String locationPrefix, boolean volumes) {
    String volumeDeclaration = !volumes ? "" : """
          - name: %s
            kind: imaging
            format: volume_folders
            location: %s%s
            classes: [%s]
        """.formatted(VOLUME_DATASET, locationPrefix, VOLUME_DATASET, String.join(", ", VolumeGenerator.CLASSES));
    return """
          - name: %s
            kind: imaging
            format: image_folders
            location: %s%s
            classes: [%s]
          - name: %s
            kind: genomic
            format: csv_matrix
            location: %s%s
            classes: [%s]
        """.formatted(IMAGING_DATASET, locationPrefix, IMAGING_DATASET, String.join(", ", ScanGenerator.CLASSES),
        GENOMIC_DATASET, locationPrefix, GENOMIC_DATASET, String.join(", ", ExpressionGenerator.CLASSES))
        + volumeDeclaration;
  }
}
