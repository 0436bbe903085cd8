package org.medfed.models.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class ModelArchiveTest {
  private static final ModelInfo INFO = new ModelInfo("job-1", "brca subtypes", "tcga", new long[] {3}, 2, false,
      List.of("BRCA1", "TP53", "ESR1"), 7);

  @TempDir Path dir;

  private static MultiLayerNetwork network() {
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(4).list()
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(3).nOut(2)
            .activation(Activation.SOFTMAX).build())
        .build());
    net.init();
    return net;
  }

  @Test
  void write_thenRead_givesTheSameWeightsAndInfo() throws Exception {
    MultiLayerNetwork net = network();
    Path zip = Files.write(dir.resolve("model.zip"), ModelArchive.write(net, INFO));

    ModelArchive.Opened opened = ModelArchive.read(zip);

    assertEquals(INFO, opened.info());
    assertEquals(net.params(), opened.network().params());
  }

  @Test
  void scaledModel_carriesItsZScore_asFormatVersion2_andAnUnscaledOneStaysVersion1() throws Exception {
    ModelInfo scaled = INFO.withFeatureScaling(new float[] {140.5f, 0.25f, -3f}, new float[] {3.5f, 0.01f, 2f});
    Path zip = Files.write(dir.resolve("scaled.zip"), ModelArchive.write(network(), scaled));

    ModelInfo read = ModelArchive.read(zip).info();

    assertEquals(scaled, read);
    assertTrue(read.scaled());
    assertEquals(ModelInfo.SCALED_FORMAT_VERSION, read.formatVersion());
    assertArrayEquals(new float[] {3.5f, 0.01f, 2f}, read.featureScale());
    assertEquals(ModelInfo.FORMAT_VERSION, INFO.formatVersion());
    assertThrows(IllegalArgumentException.class, () -> INFO.withFeatureScaling(new float[] {1f}, new float[] {1f}));
  }

  @Test
  void write_isStillAPlainDl4jZip() throws Exception {
    MultiLayerNetwork net = network();
    Path zip = Files.write(dir.resolve("model.zip"), ModelArchive.write(net, INFO));

    MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(zip.toFile(), false);

    assertEquals(net.params(), restored.params());
  }

  @Test
  void write_sameModelTwice_givesTheSameBytes() throws Exception {
    MultiLayerNetwork net = network();
    byte[] first = ModelArchive.write(net, INFO);
    Thread.sleep(2_100); // past the zip format's two-second time resolution
    assertArrayEquals(first, ModelArchive.write(net, INFO));
  }

  @Test
  void info_isSnakeCaseJsonAHumanCanRead() throws Exception {
    Path zip = Files.write(dir.resolve("model.zip"), ModelArchive.write(network(), INFO));
    try (var file = new java.util.zip.ZipFile(zip.toFile())) {
      String json = new String(file.getInputStream(file.getEntry(ModelArchive.INFO_ENTRY)).readAllBytes());
      assertTrue(json.contains("\"input_shape\" : [ 3 ]"), json);
      assertTrue(json.contains("\"job_name\" : \"brca subtypes\""), json);
    }
  }

  @Test
  void read_plainDl4jZipWithoutInfo_saysItWasNotMadeByMedfedDownload() throws Exception {
    ByteArrayOutputStream plain = new ByteArrayOutputStream();
    ModelSerializer.writeModel(network(), plain, false);
    Path zip = Files.write(dir.resolve("plain.zip"), plain.toByteArray());

    var e = assertThrows(ModelArchiveException.class, () -> ModelArchive.read(zip));

    assertTrue(e.getMessage().contains("was not made by `medfed download`"), e.getMessage());
    assertTrue(e.getMessage().contains("medfed download JOB_ID --out plain.zip"), e.getMessage());
  }

  @Test
  void read_fileThatIsNotAZip_saysSoAndHowToGetOne() throws Exception {
    Path zip = Files.writeString(dir.resolve("model.zip"), "not a zip at all");

    var e = assertThrows(ModelArchiveException.class, () -> ModelArchive.read(zip));

    assertTrue(e.getMessage().startsWith(zip + " is not a model zip"), e.getMessage());
  }

  @Test
  void read_missingFile_namesItAndTheDownloadCommand() {
    var e = assertThrows(ModelArchiveException.class, () -> ModelArchive.read(dir.resolve("none.zip")));

    assertEquals("model file " + dir.resolve("none.zip") + " does not exist; download it with"
        + " `medfed download JOB_ID --out none.zip`", e.getMessage());
  }

  @Test
  void modelInfo_survivalWithClasses_isRefused() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> new ModelInfo("j", "n", "d", new long[] {2}, 2, true, List.of(), 1));

    assertEquals("a survival model has no classes, got num_classes 2", e.getMessage());
  }
}
