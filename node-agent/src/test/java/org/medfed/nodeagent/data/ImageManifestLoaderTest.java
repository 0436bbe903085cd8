package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageManifestLoaderTest {
  @TempDir Path dir;

  private void image(String name, String format, int value) throws Exception {
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    BufferedImage image = new BufferedImage(6, 6, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 6; y++) {
      for (int x = 0; x < 6; x++) {
        image.getRaster().setSample(x, y, 0, value);
      }
    }
    ImageIO.write(image, format, file.toFile());
  }

  private DatasetDeclaration manifest(String text) throws Exception {
    Files.writeString(dir.resolve("manifest.csv"), text);
    return new DatasetDeclaration("scans", DatasetKind.IMAGING, DatasetFormat.IMAGE_MANIFEST,
        dir.resolve("manifest.csv"), List.of("normal", "nodule"));
  }

  @Test
  void manifest_readsPngAndJpeg_withGivenSplits() throws Exception {
    image("exports/a.png", "png", 255);
    image("exports/b.jpg", "jpg", 0);
    image("c.png", "png", 255);

    LocalDataset data = DatasetLoaders.load(manifest("path,label,split\nexports/a.png,nodule,train\n"
        + "exports/b.jpg,normal,train\nc.png,nodule,test\n"));

    assertEquals(2, data.trainSamples());
    assertEquals(1, data.testSamples());
    assertEquals(1.0, data.test().getFeatures().getDouble(0, 0, 0, 0), 1e-6);
    assertEquals(1.0, data.test().getLabels().getDouble(0, 1), 1e-6);
  }

  @Test
  void manifestWithoutSplits_holdsOutASeededQuarter() throws Exception {
    StringBuilder text = new StringBuilder("path,label\n");
    for (int i = 0; i < 8; i++) {
      image("img" + i + ".png", "png", i * 30);
      text.append("img").append(i).append(".png,").append(i % 2 == 0 ? "normal" : "nodule").append('\n');
    }

    LocalDataset data = DatasetLoaders.load(manifest(text.toString()));

    assertEquals(6, data.trainSamples());
    assertEquals(2, data.testSamples());
  }

  @Test
  void badRows_areReportedWithTheManifestRow() throws Exception {
    image("a.png", "png", 10);
    Files.writeString(dir.resolve("broken.png"), "not an image");

    DataLoadException missing = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(
        manifest("path,label\na.png,normal\ngone.png,normal\n")));
    assertEquals(dir.resolve("manifest.csv") + ":3: " + dir.resolve("gone.png") + " does not exist",
        missing.getMessage());

    DataLoadException corrupt = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(
        manifest("path,label\na.png,normal\nbroken.png,nodule\n")));
    assertTrue(corrupt.getMessage().startsWith(dir.resolve("manifest.csv") + ":3: " + dir.resolve("broken.png")
        + ": not a PNG/JPEG image or the file is corrupt"), corrupt.getMessage());

    DataLoadException label = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(
        manifest("path,label\na.png,tumour\n")));
    assertTrue(label.getMessage().startsWith(dir.resolve("manifest.csv") + ":2: label 'tumour' is not one of"),
        label.getMessage());
  }
}
