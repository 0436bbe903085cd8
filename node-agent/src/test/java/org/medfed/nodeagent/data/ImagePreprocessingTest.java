package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Resize and channel conversion on real PNG/JPEG files of mixed sizes and colour modes. */
class ImagePreprocessingTest {
  @TempDir Path dir;

  @Test
  void mixedSizesAndColourModes_becomeOneShape_whenTheDeclarationAsks() throws Exception {
    Path root = dir.resolve("scans");
    write(root.resolve("train/normal/a.png"), solid(64, 48, BufferedImage.TYPE_INT_RGB, Color.RED));
    write(root.resolve("train/normal/b.jpg"), solid(20, 30, BufferedImage.TYPE_BYTE_GRAY, Color.WHITE));
    write(root.resolve("train/nodule/c.png"), palette(16, 16));
    write(root.resolve("test/nodule/d.png"), solid(100, 100, BufferedImage.TYPE_USHORT_GRAY, Color.BLACK));
    DatasetDeclaration declared = new DatasetDeclaration("scans", DatasetKind.IMAGING, DatasetFormat.IMAGE_FOLDERS,
        root, List.of("normal", "nodule"), DatasetDeclaration.Options.DEFAULTS.withImage(new ImagePreprocessing(
            Optional.of(new ImagePreprocessing.Size(8, 10)), ImagePreprocessing.Channels.RGB)));

    LocalDataset data = DatasetLoaders.load(declared);

    assertArrayEquals(new long[] {3, 8, 10}, data.inputShape());
    assertEquals(3, data.train().numExamples());
    assertArrayEquals(new long[] {3, 3, 8, 10}, data.train().getFeatures().shape());
    // Folders are read in name order: nodule/c.png (the palette image, pure green), then normal/a.png (red).
    float[] green = sample(data, 0);
    assertEquals(0f, green[0], 1e-6);
    assertEquals(1f, green[80], 1e-6, "the palette index was looked up, not read as an intensity");
    float[] red = sample(data, 1);
    assertEquals(1f, red[0], 1e-6);
    assertEquals(0f, red[80], 1e-6);
    assertEquals(0f, red[160], 1e-6);
  }

  @Test
  void withoutResize_aSizeMismatchNamesTheFileAndTheFix() throws Exception {
    Path root = dir.resolve("scans");
    write(root.resolve("train/normal/a.png"), solid(8, 8, BufferedImage.TYPE_BYTE_GRAY, Color.WHITE));
    write(root.resolve("train/normal/b.png"), solid(9, 8, BufferedImage.TYPE_BYTE_GRAY, Color.WHITE));
    write(root.resolve("test/normal/c.png"), solid(8, 8, BufferedImage.TYPE_BYTE_GRAY, Color.WHITE));
    DataLoadException e = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(new DatasetDeclaration(
        "scans", DatasetKind.IMAGING, DatasetFormat.IMAGE_FOLDERS, root, List.of("normal", "nodule"))));
    assertTrue(e.getMessage().contains("b.png") && e.getMessage().contains("resize: [HEIGHT, WIDTH]"),
        e.getMessage());
  }

  @Test
  void rgbToGray_usesLuma_andGrayToRgb_repeatsThePlane() {
    ImagePreprocessing gray = new ImagePreprocessing(Optional.empty(), ImagePreprocessing.Channels.GRAY);
    float[] luma = gray.apply(new float[][] {{1f}, {0f}, {0f}}, 1, 1);
    assertArrayEquals(new float[] {0.299f}, luma, 1e-6f);
    ImagePreprocessing rgb = new ImagePreprocessing(Optional.empty(), ImagePreprocessing.Channels.RGB);
    assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, rgb.apply(new float[][] {{0.5f}}, 1, 1), 1e-6f);
  }

  @Test
  void shrinkingAveragesTheCoveredArea_andEnlargingInterpolates() {
    // A 4x4 checkerboard of 1-pixel squares shrinks to an even 2x2 gray, not to an aliased pattern.
    float[] checker = new float[16];
    for (int i = 0; i < 16; i++) {
      checker[i] = ((i / 4) + (i % 4)) % 2;
    }
    assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f}, ImagePreprocessing.area(checker, 4, 4, 2, 2), 1e-6f);
    // Shrinking 3 -> 2 weighs the middle pixel half to each side.
    assertArrayEquals(new float[] {(0 + 0.5f * 3) / 1.5f, (3 * 0.5f + 6) / 1.5f},
        ImagePreprocessing.area(new float[] {0, 3, 6}, 1, 3, 1, 2), 1e-5f);
    // Enlarging a 1x2 ramp: the ends stay, the values between are interpolated.
    float[] up = ImagePreprocessing.bilinear(new float[] {0f, 1f}, 1, 2, 1, 4);
    assertArrayEquals(new float[] {0f, 0.25f, 0.75f, 1f}, up, 1e-6f);
  }

  private static float[] sample(LocalDataset data, int index) {
    return data.train().getFeatures().get(NDArrayIndex.point(index)).dup().data().asFloat();
  }

  private static BufferedImage solid(int width, int height, int type, Color colour) {
    BufferedImage image = new BufferedImage(width, height, type);
    var g = image.createGraphics();
    g.setColor(colour);
    g.fillRect(0, 0, width, height);
    g.dispose();
    return image;
  }

  /** An indexed-colour PNG whose only colour, index 1, is pure green. */
  private static BufferedImage palette(int width, int height) {
    byte[] r = {0, 0};
    byte[] g = {0, (byte) 255};
    byte[] b = {0, 0};
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_INDEXED,
        new IndexColorModel(1, 2, r, g, b));
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.getRaster().setSample(x, y, 0, 1);
      }
    }
    return image;
  }

  private static void write(Path file, BufferedImage image) throws Exception {
    Files.createDirectories(file.getParent());
    String format = file.toString().endsWith(".jpg") ? "jpg" : "png";
    assertTrue(ImageIO.write(image, format, file.toFile()), "no writer for " + file);
  }
}
