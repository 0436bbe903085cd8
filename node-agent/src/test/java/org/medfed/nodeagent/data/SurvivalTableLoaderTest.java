package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SurvivalTableLoaderTest {
  @TempDir Path dir;

  private DatasetDeclaration declaration() {
    return new DatasetDeclaration("brca", DatasetKind.CLINICAL, DatasetFormat.CSV_SURVIVAL, dir, List.of());
  }

  private void write(String train, String test) throws Exception {
    Files.writeString(dir.resolve("train.csv"), train);
    Files.writeString(dir.resolve("test.csv"), test);
  }

  @Test
  void survivalTable_labelsAreTimeAndEvent_andNoClassesAreDeclared() throws Exception {
    write("sample_id,time,event,age,stage\np1,120,1,61,2\np2,800,0,45,1\n", "sample_id,time,event,age,stage\np3,30,1,70,3\n");

    LocalDataset data = DatasetLoaders.load(declaration());

    assertEquals(List.of(), data.classes());
    assertArrayEquals(new long[] {2}, data.inputShape());
    assertEquals(2, data.trainSamples());
    assertArrayEquals(new float[] {120, 1}, data.train().getLabels().getRow(0).toFloatVector());
    assertArrayEquals(new float[] {800, 0}, data.train().getLabels().getRow(1).toFloatVector());
    assertArrayEquals(new float[] {45, 1}, data.train().getFeatures().getRow(1).toFloatVector());
  }

  @Test
  void badTimesAndEvents_areReportedWithFileAndRow() throws Exception {
    write("sample_id,time,event,age\np1,120,2,61\n", "sample_id,time,event,age\n");
    DataLoadException badEvent = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(declaration()));
    assertEquals(dir.resolve("train.csv") + ":2: column 'event' holds '2'; use 1 for an observed event and 0 for a"
        + " censored one", badEvent.getMessage());

    write("sample_id,time,event,age\np1,120,1,61\np2,-5,0,50\n", "sample_id,time,event,age\n");
    DataLoadException negative = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(declaration()));
    assertTrue(negative.getMessage().startsWith(dir.resolve("train.csv") + ":3: column 'time' holds -5.0"),
        negative.getMessage());

    write("sample_id,label,age\np1,a,61\n", "sample_id,label,age\n");
    DataLoadException header = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(declaration()));
    assertEquals(dir.resolve("train.csv") + ":1: header must start with sample_id,time,event then the feature names",
        header.getMessage());
  }

  @Test
  void declaringClassesForSurvivalData_isRefusedWithTheReason() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DatasetDeclaration("brca",
        DatasetKind.CLINICAL, DatasetFormat.CSV_SURVIVAL, dir, List.of("dead", "alive")));
    assertTrue(e.getMessage().contains("holds survival data (time, event); leave out 'classes'"), e.getMessage());
  }
}
