package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad records fail the load by default, or are skipped and counted, each with its file and row. */
class BadRowsTest {
  @TempDir Path dir;

  private DatasetDeclaration csv(boolean skip) {
    return new DatasetDeclaration("t", DatasetKind.CLINICAL, DatasetFormat.CSV_MATRIX, dir, List.of("a", "b"),
        DatasetDeclaration.Options.DEFAULTS.withSkipBadRows(skip));
  }

  @Test
  void csvRows_failByDefault_orAreSkippedAndCountedWhenDeclared() throws Exception {
    Files.writeString(dir.resolve("train.csv"), "sample_id,label,x\ns1,a,1\ns2,c,2\ns3,b,oops\ns4,b,4\n");
    Files.writeString(dir.resolve("test.csv"), "sample_id,label,x\ns5,a,5\n");

    DataLoadException failed = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(csv(false)));
    assertTrue(failed.getMessage().startsWith(dir.resolve("train.csv") + ":3: label 'c'"), failed.getMessage());

    DatasetLoaders.Loaded loaded = DatasetLoaders.loadReporting(csv(true));
    assertEquals(2, loaded.dataset().trainSamples());
    assertEquals(2, loaded.skipped().size());
    assertTrue(loaded.skipped().get(0).startsWith(dir.resolve("train.csv") + ":3: label 'c' is not one of"));
    assertEquals(dir.resolve("train.csv") + ":4: column 'x' holds 'oops', which is not a finite number",
        loaded.skipped().get(1));
  }

  @Test
  void anEmptyClassFolderOrACorruptImage_isReported() throws Exception {
    Files.createDirectories(dir.resolve("train/a"));
    Files.createDirectories(dir.resolve("train/b"));
    Files.createDirectories(dir.resolve("test/a"));
    javax.imageio.ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY),
        "png", dir.resolve("train/a/1.png").toFile());
    Files.copy(dir.resolve("train/a/1.png"), dir.resolve("test/a/1.png"));
    Files.writeString(dir.resolve("train/a/2.png"), "corrupt");
    DatasetDeclaration images = new DatasetDeclaration("scans", DatasetKind.IMAGING, DatasetFormat.IMAGE_FOLDERS, dir,
        List.of("a", "b"), DatasetDeclaration.Options.DEFAULTS.withSkipBadRows(true));

    DatasetLoaders.Loaded loaded = DatasetLoaders.loadReporting(images);

    assertEquals(1, loaded.dataset().trainSamples());
    assertEquals(List.of(dir.resolve("train/a/2.png") + ": not a PNG/JPEG image or the file is corrupt",
        dir.resolve("train/b") + ": class folder is empty; add its images or remove it"), loaded.skipped());
  }
}
