package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnlabelledSamplesTest {
  @TempDir Path dir;

  private DatasetDeclaration table(Normalisation normalisation) throws Exception {
    Files.writeString(dir.resolve("train.csv"), "sample_id,label,area,flag\na,x,100,1\nb,y,300,1\n");
    Files.writeString(dir.resolve("test.csv"), "sample_id,label,area,flag\nc,x,400,1\n");
    return new DatasetDeclaration("t", DatasetKind.CLINICAL, DatasetFormat.CSV_MATRIX, dir, List.of("x", "y"),
        DatasetDeclaration.Options.DEFAULTS.withNormalisation(normalisation));
  }

  @Test
  void loadUnlabelled_zscore_usesTheDeclaredTrainingStatistics_afterAligningColumnsById() throws Exception {
    Path input = Files.writeString(dir.resolve("new.csv"), "sample_id,flag,area\nn1,1,400\nn2,1,200\n");

    UnlabelledSamples samples = DatasetLoaders.loadUnlabelled(table(Normalisation.ZSCORE), input);

    float s = (float) Math.sqrt(20000);
    assertEquals(List.of("n1", "n2"), samples.ids());
    assertEquals(List.of("area", "flag"), samples.featureNames());
    assertArrayEquals(new float[] {200 / s, 0}, samples.features().getRow(0).toFloatVector(), 1e-4f);
    assertArrayEquals(new float[] {0, 0}, samples.features().getRow(1).toFloatVector(), 1e-4f);
  }

  @Test
  void loadUnlabelled_log1p_scalesLikeTraining_andRefusesNegatives() throws Exception {
    DatasetDeclaration declaration = table(Normalisation.LOG1P);
    Path good = Files.writeString(dir.resolve("good.csv"), "sample_id,area\nn1,0\nn2," + (Math.E - 1) + "\n");
    Path bad = Files.writeString(dir.resolve("bad.csv"), "sample_id,area\nn1,-1\n");

    assertArrayEquals(new float[] {0, 1}, DatasetLoaders.loadUnlabelled(declaration, good).features()
        .reshape(2).toFloatVector(), 1e-5f);
    var e = assertThrows(DataLoadException.class, () -> DatasetLoaders.loadUnlabelled(declaration, bad));
    assertEquals(bad + " has negative values; normalise: log1p needs values >= 0 (use zscore or none)",
        e.getMessage());
  }

  @Test
  void loadUnlabelled_badCell_namesFileRowAndColumn() throws Exception {
    Path input = Files.writeString(dir.resolve("new.csv"), "sample_id,area\nn1,lots\n");

    var e = assertThrows(DataLoadException.class,
        () -> DatasetLoaders.loadUnlabelled(table(Normalisation.NONE), input));

    assertEquals(input + ":2: column 'area' holds 'lots', which is not a finite number", e.getMessage());
  }

  @Test
  void loadUnlabelled_imagesFromAFile_asksForAFolder() throws Exception {
    DatasetDeclaration scans = new DatasetDeclaration("scans", DatasetKind.IMAGING, DatasetFormat.IMAGE_FOLDERS, dir,
        List.of("a", "b"));
    Path file = Files.writeString(dir.resolve("one.png"), "x");

    var e = assertThrows(DataLoadException.class, () -> DatasetLoaders.loadUnlabelled(scans, file));

    assertEquals("dataset 'scans' holds images, so --input must be a folder of images; " + file
        + " is not a folder", e.getMessage());
  }

  @Test
  void loadUnlabelled_emptyFolder_saysThereIsNothingToPredict() throws Exception {
    DatasetDeclaration scans = new DatasetDeclaration("scans", DatasetKind.IMAGING, DatasetFormat.IMAGE_FOLDERS, dir,
        List.of("a", "b"));
    Path empty = Files.createDirectories(dir.resolve("empty"));

    var e = assertThrows(DataLoadException.class, () -> DatasetLoaders.loadUnlabelled(scans, empty));

    assertEquals("no samples in " + empty + " to predict", e.getMessage());
  }
}
