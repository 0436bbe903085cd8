package org.medfed.coordinator.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.medfed.coordinator.job.InvalidJobSpecException;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobSpecParser;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class ModelCatalogTest {
  private static final String VOLUMES = """
      name: volumes
      dataset: brains
      model: {architecture: small-cnn3d}
      input_shape: [1, 8, 8, 8]
      num_classes: 2
      rounds: 2
      min_nodes: 2
      """;

  @Test
  void smallCnn3d_onNcdhwVolumes_givesOneProbabilityRowPerVolume_andTrains() {
    JobSpec spec = JobSpecParser.parse(VOLUMES);
    GlobalModel model = ModelCatalog.initialModel(spec);
    MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(model.configJson()));
    net.init(Nd4j.createFromArray(model.parameters()).reshape(1, model.parameters().length), false);
    var volumes = Nd4j.rand(DataType.FLOAT, 3, 1, 8, 8, 8);
    var labels = Nd4j.createFromArray(new float[][] {{1, 0}, {0, 1}, {1, 0}});

    net.fit(volumes, labels);

    assertArrayEquals(new long[] {3, 2}, net.output(volumes).shape());
    assertEquals(1.0, net.output(volumes).sum(1).getDouble(0), 1e-5);
  }

  @Test
  void smallCnn3d_shapesItCannotRead_areRefusedWithTheField() {
    InvalidJobSpecException flat = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse(VOLUMES.replace("[1, 8, 8, 8]", "[1, 8, 8]")));
    InvalidJobSpecException tiny = assertThrows(InvalidJobSpecException.class,
        () -> ModelCatalog.initialModel(JobSpecParser.parse(VOLUMES.replace("[1, 8, 8, 8]", "[1, 2, 8, 8]"))));
    InvalidJobSpecException planar = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse(VOLUMES.replace("small-cnn3d", "small-cnn")));

    assertEquals("job field 'input_shape': must be [channels, depth, height, width] for small-cnn3d, got [1, 8, 8]",
        flat.getMessage());
    assertEquals("job field 'input_shape': small-cnn3d needs [channels, depth, height, width] of at least 4x4x4, got"
        + " [1, 2, 8, 8]", tiny.getMessage());
    assertEquals("job field 'input_shape': must be [features] or [channels, height, width] (or [channels, depth,"
        + " height, width] with small-cnn3d or cox), got [1, 8, 8, 8]", planar.getMessage());
  }

  @Test
  void cox_onVolumes_putsOneRiskScoreOnTheSmallCnn3dBody_andLearnsWhichVolumesFailSooner() {
    JobSpec spec = JobSpecParser.parse(VOLUMES.replace("small-cnn3d", "cox").replace("num_classes: 2\n", "")
        .replace("min_nodes: 2", "min_nodes: 2\nlearning_rate: 0.01"));
    GlobalModel model = ModelCatalog.initialModel(spec);
    MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(model.configJson()));
    net.init(Nd4j.createFromArray(model.parameters()).reshape(1, model.parameters().length), false);
    // A brighter volume fails sooner: time falls with the mean intensity, every event observed.
    int n = 24;
    var volumes = Nd4j.rand(DataType.FLOAT, n, 1, 8, 8, 8);
    float[][] outcomes = new float[n][];
    for (int i = 0; i < n; i++) {
      volumes.slice(i).addi(i % 6 * 0.5);
      outcomes[i] = new float[] {10 - i % 6, 1};
    }
    var labels = Nd4j.createFromArray(outcomes);

    for (int step = 0; step < 60; step++) {
      net.fit(volumes, labels);
    }

    assertEquals(1, net.layerSize(net.getnLayers() - 1), "one risk score, as Dl4jTrainer's survival check expects");
    double[] risk = net.output(volumes, false).reshape(n).toDoubleVector();
    boolean[] events = new boolean[n];
    java.util.Arrays.fill(events, true);
    double[] times = java.util.Arrays.stream(outcomes).mapToDouble(o -> o[0]).toArray();
    double cIndex = org.medfed.models.survival.ConcordanceIndex.of(times, events, risk);
    assertEquals(1.0, cIndex, 0.1, "a brighter volume should get a higher risk");
  }

  @Test
  void cox_onPlanarImages_isRefusedNamingBothShapesItReads() {
    InvalidJobSpecException planar = assertThrows(InvalidJobSpecException.class, () -> JobSpecParser.parse(
        VOLUMES.replace("small-cnn3d", "cox").replace("num_classes: 2\n", "").replace("[1, 8, 8, 8]", "[1, 8, 8]")));

    assertEquals("job field 'input_shape': must be [features] or, for volumes, [channels, depth, height, width] for"
        + " cox, got [1, 8, 8]", planar.getMessage());
  }
}
