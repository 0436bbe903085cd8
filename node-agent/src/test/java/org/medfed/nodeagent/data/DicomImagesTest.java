package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real DICOM files (pydicom's CT_small and MR_small, see src/test/resources/dicom/README.md). */
class DicomImagesTest {
  @TempDir Path dir;

  private static Path fixture(String name) throws Exception {
    return Path.of(DicomImagesTest.class.getResource("/dicom/" + name).toURI());
  }

  @Test
  void ctPixels_areStoredValuesAfterRescale_inHounsfieldUnits() throws Exception {
    DicomImages.Pixels ct = DicomImages.modalityValues(fixture("CT_small.dcm"));

    assertEquals(128, ct.height());
    assertEquals(128, ct.width());
    // pydicom: pixel_array * RescaleSlope (1) + RescaleIntercept (-1024)
    assertEquals(-849f, ct.values()[0], 1e-3);
    assertEquals(904f, ct.values()[64 * 128 + 64], 1e-3);
    assertTrue(ct.fileWindow().isEmpty());
  }

  @Test
  void mrPixels_keepTheirSigned16BitValues_andTheFilesWindow() throws Exception {
    DicomImages.Pixels mr = DicomImages.modalityValues(fixture("MR_small.dcm"));

    assertEquals(64, mr.width());
    assertEquals(905f, mr.values()[0], 1e-3);
    assertEquals(new DicomWindow(600, 1600), mr.fileWindow().orElseThrow());
    // Through the file's window: (905 - (600 - 800)) / 1600
    assertEquals((905 + 200) / 1600f, DicomImages.read(fixture("MR_small.dcm"), Optional.empty()).values()[0], 1e-5);
  }

  @Test
  void aRescaleSlopeOtherThanOne_isApplied_withoutImageJsDisplay() throws Exception {
    // ImageJ alone would convert such a file to 32-bit through its menus: a HeadlessException on a server.
    DicomFile file = new DicomFile();
    file.stored = new short[] {-3, 0, 5, 2000};
    file.slope = 2.5;
    DicomImages.Pixels unscaledIntercept = DicomImages.modalityValues(file.write(dir.resolve("a.dcm")));
    file.intercept = -1000;
    DicomImages.Pixels withIntercept = DicomImages.modalityValues(file.write(dir.resolve("b.dcm")));

    assertArrayEquals(new float[] {-7.5f, 0, 12.5f, 5000}, unscaledIntercept.values(), 1e-4f);
    assertArrayEquals(new float[] {-1007.5f, -1000, -987.5f, 4000}, withIntercept.values(), 1e-4f);
  }

  @Test
  void aDeclaredWindow_mapsHounsfieldUnitsToGrayscale() throws Exception {
    DicomWindow softTissue = new DicomWindow(40, 400);
    float[] gray = DicomImages.read(fixture("CT_small.dcm"), Optional.of(softTissue)).values();

    assertEquals(0f, gray[0], 1e-6);               // -849 HU: below the window, black
    assertEquals(1f, gray[64 * 128 + 64], 1e-6);   // 904 HU: above it, white
  }

  @Test
  void dicomFolders_loadThroughTheImageLoader_andACorruptFileIsNamed() throws Exception {
    for (String split : List.of("train", "test")) {
      Files.createDirectories(dir.resolve(split + "/ct"));
      Files.copy(fixture("CT_small.dcm"), dir.resolve(split + "/ct/1.dcm"));
    }
    DatasetDeclaration declaration = new DatasetDeclaration("ct", DatasetKind.IMAGING, DatasetFormat.IMAGE_FOLDERS, dir,
        List.of("ct", "mr"), DatasetDeclaration.Options.DEFAULTS.withWindow(new DicomWindow(40, 400)));

    LocalDataset data = DatasetLoaders.load(declaration);
    assertEquals(List.of(1L, 128L, 128L), Arrays.stream(data.inputShape()).boxed().toList());

    Files.writeString(dir.resolve("train/ct/2.dcm"), "DICM? no");
    DataLoadException e = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(declaration));
    assertTrue(e.getMessage().startsWith(dir.resolve("train/ct/2.dcm") + ": not a readable DICOM image"),
        e.getMessage());
  }
}
