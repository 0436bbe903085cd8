package org.medfed.examples.synthetic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.DatasetLoaders;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.data.VolumePreprocessing;

/** Each format written here and read back through the agent's own volume loader gives the generated voxels. */
class StudyFormatTest {
  private static final int SIZE = 8;

  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(StudyFormat.class)
  void write_readBackByTheAgentsLoader_givesTheGeneratedVolumeInRas(StudyFormat format) throws Exception {
    // A volume whose every voxel differs, so any flipped or shuffled axis shows.
    float[] ras = new float[SIZE * SIZE * SIZE];
    for (int i = 0; i < ras.length; i++) {
      ras[i] = -100 + 1.5f * i;
    }
    Path written = format.write(dir.resolve("train/lesion"), "study-1", ras, SIZE, new Random(3));
    Files.createDirectories(dir.resolve("test"));

    LocalDataset loaded = DatasetLoaders.load(new DatasetDeclaration("ct", DatasetKind.IMAGING,
        DatasetFormat.VOLUME_FOLDERS, dir, List.of("normal", "lesion"), DatasetDeclaration.Options.DEFAULTS
            .withVolume(new VolumePreprocessing(Optional.empty(), Optional.empty(),
                new VolumePreprocessing.Intensity.None(), OptionalInt.empty(), 0.5))));

    assertArrayEquals(new long[] {1, SIZE, SIZE, SIZE}, loaded.inputShape());
    float[] read = loaded.train().getFeatures().data().asFloat();
    for (int i = 0; i < ras.length; i++) {
      assertEquals(ras[i], read[i], format.precision() + 1e-3, format + " voxel " + i);
    }
    assertEquals(1, loaded.train().getLabels().getDouble(0, 1));
    if (format == StudyFormat.DICOM_SERIES) {
      try (Stream<Path> files = Files.list(written)) {
        List<String> names = files.map(f -> f.getFileName().toString()).toList();
        assertEquals(SIZE, names.size());
        assertTrue(names.stream().allMatch(n -> n.matches("[0-9a-f]{16}")), "random names: " + names);
      }
    }
  }
}
