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
        + " height, width] with architecture small-cnn3d), got [1, 8, 8, 8]", planar.getMessage());
  }
}
