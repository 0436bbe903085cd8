package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetLoadersTest {
  @TempDir Path dir;

  private void png(Path file, int size, int value) throws Exception {
    Files.createDirectories(file.getParent());
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        image.getRaster().setSample(x, y, 0, value);
      }
    }
    ImageIO.write(image, "png", file.toFile());
  }

  private DatasetDeclaration images() {
    return new DatasetDeclaration("scans", DatasetKind.IMAGING, DatasetFormat.IMAGE_FOLDERS, dir,
        List.of("normal", "nodule", "irregular"));
  }

  @Test
  void imageFolders_classesMapToDeclaredOrder_evenWhenAHospitalLacksOne() throws Exception {
    png(dir.resolve("train/nodule/1.png"), 8, 255);
    png(dir.resolve("train/normal/1.png"), 8, 0);
    png(dir.resolve("train/normal/2.png"), 8, 51);
    png(dir.resolve("test/nodule/1.png"), 8, 255);

    LocalDataset dataset = DatasetLoaders.load(images());

    assertArrayEquals(new long[] {1, 8, 8}, dataset.inputShape());
    assertEquals(3, dataset.trainSamples());
    assertEquals(1, dataset.testSamples());
    // Sorted folders: nodule first, then normal; labels follow the declared class order.
    assertArrayEquals(new float[] {0, 1, 0}, dataset.train().getLabels().getRow(0).toFloatVector());
    assertArrayEquals(new float[] {1, 0, 0}, dataset.train().getLabels().getRow(1).toFloatVector());
    assertEquals(1.0f, dataset.train().getFeatures().getFloat(0, 0, 3, 3), 1e-6);
    assertEquals(0.2f, dataset.train().getFeatures().getFloat(2, 0, 3, 3), 1e-6);
  }

  @Test
  void imageFolders_corruptImage_failsNamingTheFile() throws Exception {
    png(dir.resolve("train/normal/1.png"), 8, 0);
    Files.createDirectories(dir.resolve("test/normal"));
    Files.write(dir.resolve("train/normal/2.png"), new byte[] {1, 2, 3, 4});

    DataLoadException e = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(images()));

    assertEquals(dir.resolve("train/normal/2.png") + ": not a PNG/JPEG image or the file is corrupt", e.getMessage());
  }

  @Test
  void imageFolders_classOutsideDeclaration_failsNamingTheFolder() throws Exception {
    png(dir.resolve("train/tumour/1.png"), 8, 0);
    Files.createDirectories(dir.resolve("test"));

    DataLoadException e = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(images()));

    assertEquals(dir.resolve("train/tumour") + ": label 'tumour' is not one of the declared classes "
        + "[normal, nodule, irregular]; fix the label or add the class to the dataset declaration", e.getMessage());
  }

  @Test
  void imageFolders_mixedSizes_failsNamingTheOddImage() throws Exception {
    png(dir.resolve("train/normal/1.png"), 8, 0);
    png(dir.resolve("train/normal/2.png"), 9, 0);
    Files.createDirectories(dir.resolve("test"));

    DataLoadException e = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(images()));

    assertEquals(dir.resolve("train/normal/2.png") + ": image is 9x9 but earlier images are 8x8; add resize:"
        + " [HEIGHT, WIDTH] to the dataset's declaration, or export all images at one size", e.getMessage());
  }

  private DatasetDeclaration matrix() {
    return new DatasetDeclaration("expression", DatasetKind.GENOMIC, DatasetFormat.CSV_MATRIX, dir,
        List.of("luminal", "basal"));
  }

  @Test
  void csvMatrix_readsFeaturesAndLabels() throws Exception {
    Files.writeString(dir.resolve("train.csv"), "sample_id,label,BRCA1,TP53\nS1,basal,1.5,-2\nS2,luminal,0,3.25\n");
    Files.writeString(dir.resolve("test.csv"), "sample_id,label,BRCA1,TP53\nS3,basal,1,1\n");

    LocalDataset dataset = DatasetLoaders.load(matrix());

    assertArrayEquals(new long[] {2}, dataset.inputShape());
    assertArrayEquals(new float[] {1.5f, -2f}, dataset.train().getFeatures().getRow(0).toFloatVector());
    assertArrayEquals(new float[] {0, 1}, dataset.train().getLabels().getRow(0).toFloatVector());
    assertEquals(1, dataset.testSamples());
  }

  @Test
  void csvMatrix_nonNumericCell_failsNamingFileRowAndColumn() throws Exception {
    Files.writeString(dir.resolve("train.csv"), "sample_id,label,BRCA1,TP53\nS1,basal,1.5,-2\nS2,luminal,n/a,3\n");
    Files.writeString(dir.resolve("test.csv"), "sample_id,label,BRCA1,TP53\n");

    DataLoadException e = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(matrix()));

    assertEquals(dir.resolve("train.csv") + ":3: column 'BRCA1' holds 'n/a', which is not a finite number", e.getMessage());
  }

  @Test
  void csvMatrix_missingTestFile_failsNamingIt() throws Exception {
    Files.writeString(dir.resolve("train.csv"), "sample_id,label,BRCA1\nS1,basal,1\n");

    DataLoadException e = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(matrix()));

    assertEquals("dataset 'expression': missing file " + dir.resolve("test.csv"), e.getMessage());
  }
}
