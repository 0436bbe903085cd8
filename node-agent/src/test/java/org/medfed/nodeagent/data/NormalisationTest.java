package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NormalisationTest {
  @TempDir Path dir;

  @Test
  void zscore_usesTheTrainingSplitsStatistics_forBothSplits_andLeavesConstantFeaturesFinite() throws Exception {
    Files.writeString(dir.resolve("train.csv"), "sample_id,label,area,flag\na,x,100,1\nb,y,300,1\n");
    Files.writeString(dir.resolve("test.csv"), "sample_id,label,area,flag\nc,x,400,1\n");

    LocalDataset data = DatasetLoaders.load(new DatasetDeclaration("t", DatasetKind.CLINICAL, DatasetFormat.CSV_MATRIX,
        dir, List.of("x", "y"), DatasetDeclaration.Options.DEFAULTS.withNormalisation(Normalisation.ZSCORE)));

    // area: mean 200, sample standard deviation 141.42; flag: constant, shifted to 0.
    float s = (float) Math.sqrt(20000);
    assertArrayEquals(new float[] {-100 / s, 0}, data.train().getFeatures().getRow(0).toFloatVector(), 1e-4f);
    assertArrayEquals(new float[] {100 / s, 0}, data.train().getFeatures().getRow(1).toFloatVector(), 1e-4f);
    assertArrayEquals(new float[] {200 / s, 0}, data.test().getFeatures().getRow(0).toFloatVector(), 1e-4f);
  }

  @Test
  void normalisingImages_isRefused() {
    assertThrows(IllegalArgumentException.class, () -> new DatasetDeclaration("scans", DatasetKind.IMAGING,
        DatasetFormat.IMAGE_FOLDERS, dir, List.of("a", "b"), DatasetDeclaration.Options.DEFAULTS.withNormalisation(Normalisation.ZSCORE)));
  }
}
