package org.medfed.nodeagent.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.models.archive.ModelArchive;
import org.medfed.models.archive.ModelInfo;
import org.medfed.models.survival.CoxPartialLikelihood;
import org.medfed.nodeagent.AgentMain;
import org.medfed.nodeagent.data.DatasetLoaders;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.AgentConfigLoader;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import picocli.CommandLine;

/**
 * {@code medfed-agent evaluate} and {@code predict} run through picocli on real files made here:
 * PNG folders, the project's DICOM fixtures, an expression matrix whose genes come in another
 * order than the model's, a survival table; with tiny DL4J models trained here.
 */
class ModelCommandsTest {
  private static final List<String> GENES = List.of("G1", "G2", "G3");

  @TempDir static Path dir;
  static Path config;
  static Path scanModel;
  static Path geneModel;
  static Path coxModel;

  record Run(int code, String out, String err) {}

  @BeforeAll
  static void consortiumModelsAndHospitalFiles() throws Exception {
    Random random = new Random(7);
    for (String split : List.of("train", "test")) {
      for (String label : List.of("dark", "bright")) {
        Path folder = Files.createDirectories(dir.resolve("scans/" + split + "/" + label));
        for (int i = 0; i < (split.equals("train") ? 20 : 6); i++) {
          png(folder.resolve(i + ".png"), label.equals("bright"), random);
        }
      }
    }
    writeExpression(random);
    writeCohort(random);
    config = Files.writeString(dir.resolve("agent.yaml"), """
        node_id: hospital-a
        coordinator: localhost:7443
        insecure_plaintext: true
        datasets:
          - {name: scans, kind: imaging, format: image_folders, location: scans, classes: [dark, bright],
             resize: [8, 8]}
          - {name: thumbnails, kind: imaging, format: image_folders, location: scans, classes: [dark, bright],
             resize: [4, 4]}
          - {name: expression, kind: genomic, format: expression_matrix, location: expression.tsv,
             phenotypes: phenotypes.csv, classes: [luminal, basal]}
          - {name: partial, kind: genomic, format: expression_matrix, location: partial.tsv,
             phenotypes: phenotypes.csv, classes: [luminal, basal]}
          - {name: cohort, kind: clinical, format: csv_survival, location: cohort}
        """);
    var datasets = AgentConfigLoader.load(config).datasets();

    LocalDataset scans = DatasetLoaders.load(datasets.get(0));
    MultiLayerNetwork scanNet = train(classifier(InputType.convolutional(8, 8, 1)), scans.train());
    scanModel = Files.write(dir.resolve("scans.zip"), ModelArchive.write(scanNet,
        new ModelInfo("job-scans", "dark or bright", "scans", new long[] {1, 8, 8}, 2, false, List.of(), 5)));

    // Trained on rows in the model's own gene order; the hospital's file holds them in another.
    MultiLayerNetwork geneNet = train(classifier(InputType.feedForward(3)), genesInModelOrder(new Random(3), 200));
    geneModel = Files.write(dir.resolve("genes.zip"), ModelArchive.write(geneNet,
        new ModelInfo("job-genes", "subtypes", "expression", new long[] {3}, 2, false, GENES, 9)));

    MultiLayerNetwork cox = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(0.01))
        .list().layer(new OutputLayer.Builder().lossFunction(new CoxPartialLikelihood()).nOut(1)
            .activation(Activation.IDENTITY).build())
        .setInputType(InputType.feedForward(2)).build());
    cox.init();
    coxModel = Files.write(dir.resolve("cox.zip"), ModelArchive.write(cox,
        new ModelInfo("job-cox", "survival", "cohort", new long[] {2}, 0, true, List.of(), 3)));
  }

  @Test
  void evaluate_pngFolders_printsAccuracyPerClassTableAndConfusionMatrix() throws Exception {
    Path json = dir.resolve("scans-report.json");

    Run run = run("evaluate", "--config", config.toString(), "--model", scanModel.toString(), "--dataset", "scans",
        "--json", json.toString());

    assertEquals(0, run.code(), run.err());
    assertTrue(run.out().contains("model:    dark or bright (job-scans), round 5"), run.out());
    assertTrue(run.out().contains("dataset:  'scans', test split, 12 samples"), run.out());
    assertTrue(run.out().contains("accuracy: 1.0000"), run.out());
    assertTrue(run.out().matches("(?s).*\\nclass\\s+precision\\s+recall\\s+f1\\s+support\\n"
        + "dark\\s+1\\.0000\\s+1\\.0000\\s+1\\.0000\\s+6\\n"
        + "bright\\s+1\\.0000\\s+1\\.0000\\s+1\\.0000\\s+6\\n.*"), run.out());
    assertTrue(run.out().matches("(?s).*confusion matrix.*\\n\\s+dark\\s+bright\\ndark\\s+6\\s+0\\nbright\\s+0\\s+6\\n"),
        run.out());
    JsonNode report = new ObjectMapper().readTree(json.toFile());
    assertEquals(1.0, report.get("accuracy").asDouble());
    assertEquals("bright", report.get("classes").get(1).get("name").asText());
    assertEquals(6, report.get("classes").get(1).get("support").asInt());
    assertEquals("[[6,0],[0,6]]", report.get("confusion").toString());
    assertEquals(12, report.get("source").get("samples").asInt());
  }

  @Test
  void evaluate_expressionMatrixInAnotherGeneOrder_isAlignedToTheModelsGenes() {
    Run run = run("evaluate", "-c", config.toString(), "--model", geneModel.toString(), "--dataset", "expression");

    assertEquals(0, run.code(), run.err());
    double accuracy = Double.parseDouble(run.out().replaceAll("(?s).*accuracy: ([0-9.]+).*", "$1"));
    assertTrue(accuracy > 0.9, run.out());
  }

  @Test
  void evaluate_coxModel_printsTheCIndex() throws Exception {
    Path json = dir.resolve("cox.json");

    Run run = run("evaluate", "-c", config.toString(), "--model", coxModel.toString(), "--dataset", "cohort",
        "--json", json.toString());

    assertEquals(0, run.code(), run.err());
    assertTrue(run.out().matches("(?s).*c-index:  0\\.\\d{4}   loss: .*"), run.out());
    assertTrue(new ObjectMapper().readTree(json.toFile()).get("c_index").isNumber());
  }

  @Test
  void predict_imageFolderWithPngAndDicom_writesOneRowPerFileWithClassProbabilities() throws Exception {
    Path input = Files.createDirectories(dir.resolve("new-cases"));
    png(input.resolve("a-dark.png"), false, new Random(1));
    png(input.resolve("b-bright.png"), true, new Random(2));
    Files.copy(fixture("CT_small.dcm"), input.resolve("c-ct.dcm"));
    Files.copy(fixture("MR_small.dcm"), input.resolve("d-mr.dcm"));
    Path out = dir.resolve("predictions.csv");

    Run run = run("predict", "-c", config.toString(), "--dataset", "scans", "--model", scanModel.toString(),
        "--input", input.toString(), "--out", out.toString());

    assertEquals(0, run.code(), run.err());
    List<String> lines = Files.readAllLines(out);
    assertEquals("sample_id,predicted_class,p_dark,p_bright", lines.get(0));
    assertEquals(5, lines.size(), lines.toString());
    assertTrue(lines.get(1).startsWith("a-dark.png,dark,"), lines.get(1));
    assertTrue(lines.get(2).startsWith("b-bright.png,bright,"), lines.get(2));
    assertTrue(lines.get(3).startsWith("c-ct.dcm,"), lines.get(3));
    assertTrue(lines.get(4).startsWith("d-mr.dcm,"), lines.get(4));
    for (String line : lines.subList(1, 5)) {
      String[] cells = line.split(",");
      assertEquals(1.0, Double.parseDouble(cells[2]) + Double.parseDouble(cells[3]), 1e-4, line);
    }
  }

  @Test
  void predict_matrixInAnotherGeneOrder_predictsFromTheAlignedGenes() throws Exception {
    // genes by samples, G2 and G1 swapped and an extra gene: s1 is clearly basal (G1 high), s2 luminal.
    Path input = Files.writeString(dir.resolve("new-patients.tsv"),
        "gene\ts1\ts2\nG3\t0.1\t0.2\nG2\t-2\t2\nEXTRA\t9\t9\nG1\t2\t-2\n");
    Path out = dir.resolve("genes-predictions.csv");

    Run run = run("predict", "-c", config.toString(), "--dataset", "expression", "--model", geneModel.toString(),
        "--input", input.toString(), "--out", out.toString());

    assertEquals(0, run.code(), run.err());
    List<String> lines = Files.readAllLines(out);
    assertEquals("sample_id,predicted_class,p_luminal,p_basal", lines.get(0));
    assertTrue(lines.get(1).startsWith("s1,basal,"), lines.toString());
    assertTrue(lines.get(2).startsWith("s2,luminal,"), lines.toString());
  }

  @Test
  void predict_modelTrainedOnConsortiumZScores_scalesTheAlignedGenesFirst() throws Exception {
    ModelArchive.Opened plain = ModelArchive.read(geneModel);
    float[] mean = {4f, -1f, 0.5f};
    float[] scale = {2f, 0.5f, 1f};
    Path scaledModel = Files.write(dir.resolve("genes-scaled.zip"), ModelArchive.write(plain.network(),
        plain.info().withFeatureScaling(mean, scale)));
    Path input = Files.writeString(dir.resolve("scaled-patients.tsv"), "gene\ts1\nG3\t0.1\nG2\t-2\nG1\t2\n");
    Path out = dir.resolve("scaled-predictions.csv");

    Run run = run("predict", "-c", config.toString(), "--dataset", "expression", "--model", scaledModel.toString(),
        "--input", input.toString(), "--out", out.toString());

    assertEquals(0, run.code(), run.err());
    // In the model's gene order G1, G2, G3: (x - mean) / scale.
    float[] row = {(2f - 4f) / 2f, (-2f + 1f) / 0.5f, (0.1f - 0.5f) / 1f};
    double expected = plain.network().output(Nd4j.create(new float[][] {row})).getDouble(0, 1);
    String[] cells = Files.readAllLines(out).get(1).split(",");
    assertEquals(expected, Double.parseDouble(cells[3]), 1e-5, String.join(",", cells));
  }

  @Test
  void predict_coxModel_writesRiskScores() throws Exception {
    Path input = Files.writeString(dir.resolve("new-cohort.csv"), "sample_id,age,stage\np1,61,2\np2,45,1\n");
    Path out = dir.resolve("risk.csv");

    Run run = run("predict", "-c", config.toString(), "--dataset", "cohort", "--model", coxModel.toString(),
        "--input", input.toString(), "--out", out.toString());

    assertEquals(0, run.code(), run.err());
    List<String> lines = Files.readAllLines(out);
    assertEquals("sample_id,risk_score", lines.get(0));
    assertTrue(lines.get(2).matches("p2,-?\\d+\\.\\d{6}"), lines.toString());
  }

  @Test
  void predict_truncatedPng_failsWithOneLineNamingTheFile() throws Exception {
    Path input = Files.createDirectories(dir.resolve("broken-cases"));
    png(input.resolve("good.png"), true, new Random(4));
    byte[] whole = Files.readAllBytes(input.resolve("good.png"));
    Path broken = Files.write(input.resolve("broken.png"), Arrays.copyOf(whole, whole.length / 2));

    Run run = run("predict", "-c", config.toString(), "--dataset", "scans", "--model", scanModel.toString(),
        "--input", input.toString(), "--out", dir.resolve("never.csv").toString());

    assertEquals(2, run.code());
    assertOneLine(run.err(), "medfed-agent predict: " + broken + ": ");
    assertFalse(Files.exists(dir.resolve("never.csv")));
  }

  @Test
  void evaluate_zipThatIsNotAModel_saysSoInOneLine() throws Exception {
    Path notAModel = Files.writeString(dir.resolve("notes.zip"), "meeting notes, not a zip");

    Run run = run("evaluate", "-c", config.toString(), "--model", notAModel.toString(), "--dataset", "scans");

    assertEquals(2, run.code());
    assertOneLine(run.err(), "medfed-agent evaluate: " + notAModel + " is not a model zip");
  }

  @Test
  void evaluate_plainDl4jZipWithoutModelInfo_saysItWasNotMadeByMedfedDownload() throws Exception {
    Path plain = dir.resolve("plain.zip");
    ModelSerializer.writeModel(ModelArchive.read(scanModel).network(), plain.toFile(), false);

    Run run = run("evaluate", "-c", config.toString(), "--model", plain.toString(), "--dataset", "scans");

    assertEquals(2, run.code());
    assertOneLine(run.err(), "medfed-agent evaluate: " + plain + " has no medfed/model-info.json, so it was not made"
        + " by `medfed download`");
  }

  @Test
  void evaluate_missingModelFile_namesIt() {
    Run run = run("evaluate", "-c", config.toString(), "--model", dir.resolve("nowhere.zip").toString(),
        "--dataset", "scans");

    assertEquals(2, run.code());
    assertOneLine(run.err(), "medfed-agent evaluate: model file " + dir.resolve("nowhere.zip") + " does not exist");
  }

  @Test
  void evaluate_unknownDataset_listsTheDeclaredOnes() {
    Run run = run("evaluate", "-c", config.toString(), "--model", scanModel.toString(), "--dataset", "xrays");

    assertEquals(2, run.code());
    assertEquals("medfed-agent evaluate: " + config + " declares no dataset named 'xrays'; it declares [cohort,"
        + " expression, partial, scans, thumbnails]\n", run.err());
  }

  @Test
  void evaluate_datasetOfAnotherShape_saysWhatTheModelExpects() {
    Run run = run("evaluate", "-c", config.toString(), "--model", scanModel.toString(), "--dataset", "thumbnails");

    assertEquals(2, run.code());
    assertEquals("medfed-agent evaluate: the model expects input shape [1, 8, 8] but dataset 'thumbnails' gives"
        + " [1, 4, 4]; declare resize: [HEIGHT, WIDTH] and channels: gray|rgb to match\n", run.err());
  }

  @Test
  void evaluate_missingGeneUnderPolicyFail_namesTheGeneAndThePolicy() {
    Run run = run("evaluate", "-c", config.toString(), "--model", geneModel.toString(), "--dataset", "partial");

    assertEquals(2, run.code());
    assertEquals("medfed-agent evaluate: 1 of the job's 3 features missing at dataset 'partial': [G2]; its declaration"
        + " says missing_features: fail (declare missing_features: {impute: VALUE} to fill them)\n", run.err());
  }

  @Test
  void evaluate_classifierOnSurvivalData_isRefused() {
    Run run = run("evaluate", "-c", config.toString(), "--model", scanModel.toString(), "--dataset", "cohort");

    assertEquals(2, run.code());
    assertOneLine(run.err(), "medfed-agent evaluate: the model is a classifier but dataset 'cohort' holds survival");
  }

  @Test
  void evaluate_badInputWithVerbose_alsoPrintsTheStackTrace() {
    Run run = run("evaluate", "-c", config.toString(), "--model", dir.resolve("nowhere.zip").toString(),
        "--dataset", "scans", "--verbose");

    assertEquals(2, run.code());
    assertTrue(run.err().contains("at org.medfed.models.archive.ModelArchive.read"), run.err());
  }

  private static void assertOneLine(String err, String start) {
    assertTrue(err.startsWith(start), err);
    assertEquals(1, err.lines().count(), err);
  }

  private static Run run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
      int code = new CommandLine(new AgentMain()).execute(args);
      return new Run(code, outBytes.toString(StandardCharsets.UTF_8), errBytes.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  private static MultiLayerConfiguration classifier(InputType input) {
    return new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(0.05)).list()
        .layer(new DenseLayer.Builder().nOut(8).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2).activation(Activation.SOFTMAX)
            .build())
        .setInputType(input).build();
  }

  private static MultiLayerNetwork train(MultiLayerConfiguration configuration, DataSet data) {
    MultiLayerNetwork net = new MultiLayerNetwork(configuration);
    net.init();
    for (int epoch = 0; epoch < 60; epoch++) {
      net.fit(data);
    }
    return net;
  }

  /** A 16x16 gray PNG, dark (values near 50) or bright (near 200), with noise. */
  private static void png(Path file, boolean bright, Random random) throws Exception {
    BufferedImage image = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        image.getRaster().setSample(x, y, 0, (bright ? 200 : 50) + random.nextInt(30) - 15);
      }
    }
    ImageIO.write(image, "png", file.toFile());
  }

  /** Basal when G1 exceeds G2; G3 is noise. */
  private static DataSet genesInModelOrder(Random random, int n) {
    float[][] x = new float[n][3];
    float[][] y = new float[n][2];
    for (int i = 0; i < n; i++) {
      x[i] = profile(random);
      y[i][x[i][0] > x[i][1] ? 1 : 0] = 1;
    }
    return new DataSet(Nd4j.create(x), Nd4j.create(y));
  }

  private static float[] profile(Random random) {
    return new float[] {(float) random.nextGaussian(), (float) random.nextGaussian(), (float) random.nextGaussian()};
  }

  /** Genes by samples in the order G3, EXTRA, G2, G1; partial.tsv lacks G2. */
  private static void writeExpression(Random random) throws Exception {
    int n = 80;
    StringBuilder header = new StringBuilder("gene_id");
    StringBuilder[] rows = {new StringBuilder("G3"), new StringBuilder("EXTRA"), new StringBuilder("G2"),
        new StringBuilder("G1")};
    StringBuilder phenotypes = new StringBuilder("sample_id,label,split\n");
    for (int s = 0; s < n; s++) {
      float[] p = profile(random);
      header.append("\tS").append(s);
      float[] cells = {p[2], (float) random.nextGaussian(), p[1], p[0]};
      for (int r = 0; r < 4; r++) {
        rows[r].append('\t').append(cells[r]);
      }
      phenotypes.append("S").append(s).append(',').append(p[0] > p[1] ? "basal" : "luminal").append(',')
          .append(s < 40 ? "train" : "test").append('\n');
    }
    Files.writeString(dir.resolve("expression.tsv"), header + "\n" + String.join("\n", List.of(rows[0], rows[1],
        rows[2], rows[3])) + "\n");
    Files.writeString(dir.resolve("partial.tsv"), header + "\n" + String.join("\n", List.of(rows[0], rows[1],
        rows[3])) + "\n");
    Files.writeString(dir.resolve("phenotypes.csv"), phenotypes);
  }

  private static void writeCohort(Random random) throws Exception {
    Files.createDirectories(dir.resolve("cohort"));
    for (String split : List.of("train", "test")) {
      StringBuilder csv = new StringBuilder("sample_id,time,event,age,stage\n");
      for (int i = 0; i < 12; i++) {
        int stage = 1 + random.nextInt(3);
        csv.append(split).append(i).append(',').append(100 + random.nextInt(900) / stage).append(',')
            .append(random.nextInt(2)).append(',').append(40 + random.nextInt(40)).append(',').append(stage)
            .append('\n');
      }
      Files.writeString(dir.resolve("cohort/" + split + ".csv"), csv);
    }
  }

  private static Path fixture(String name) throws Exception {
    return Path.of(ModelCommandsTest.class.getResource("/dicom/" + name).toURI());
  }
}
