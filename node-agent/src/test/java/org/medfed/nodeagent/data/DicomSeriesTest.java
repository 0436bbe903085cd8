package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Real DICOM files written by {@link DicomFile} and read through ImageJ's decoder. */
class DicomSeriesTest {
  private static final double[] AXIAL = {1, 0, 0, 0, 1, 0};
  private static final double[] SAGITTAL = {0, 1, 0, 0, 0, -1};

  @TempDir Path dir;

  /**
   * A series of {@code slices} slices of {@code rows x columns}, slice k at {@code origin + k * spacing *
   * normal}, stored value {@code column + 7 * row + 31 * slice}; files are named in reverse position order.
   */
  static Path series(Path folder, double[] orientation, int slices, int rows, int columns, double spacing)
      throws Exception {
    Files.createDirectories(folder);
    for (int k = 0; k < slices; k++) {
      slice(orientation, k, rows, columns, spacing).write(folder.resolve("IM" + (slices - k) + ".dcm"));
    }
    return folder;
  }

  static DicomFile slice(double[] orientation, int k, int rows, int columns, double spacing) {
    DicomFile file = new DicomFile();
    file.orientation = orientation;
    file.rows = rows;
    file.columns = columns;
    file.pixelSpacing = new double[] {0.8, 0.6};
    double[] normal = normal(orientation);
    double[] origin = {-30, 12.5, 40};
    file.position = new double[] {origin[0] + k * spacing * normal[0], origin[1] + k * spacing * normal[1],
        origin[2] + k * spacing * normal[2]};
    file.instance = k + 1;
    file.stored = new short[rows * columns];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < columns; c++) {
        file.stored[r * columns + c] = (short) (c + 7 * r + 31 * k);
      }
    }
    return file;
  }

  static double[] normal(double[] o) {
    return new double[] {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
  }

  /**
   * The same voxels as {@link #series} written as dcm2niix would: stored order kept, the sform the
   * DICOM geometry in RAS (LPS with x and y negated).
   */
  static Path niftiOf(Path file, double[] orientation, int slices, int rows, int columns, double spacing)
      throws Exception {
    DicomFile first = slice(orientation, 0, rows, columns, spacing);
    double[] normal = normal(orientation);
    double[][] lps = new double[3][4];
    for (int axis = 0; axis < 3; axis++) {
      lps[axis] = new double[] {orientation[axis] * first.pixelSpacing[1], orientation[3 + axis]
          * first.pixelSpacing[0], normal[axis] * spacing, first.position[axis]};
    }
    NiftiFile nifti = new NiftiFile();
    nifti.srow = new double[][] {negated(lps[0]), negated(lps[1]), lps[2]};
    nifti.dims = new int[] {columns, rows, slices};
    nifti.values = new double[slices * rows * columns];
    for (int k = 0; k < slices; k++) {
      short[] stored = slice(orientation, k, rows, columns, spacing).stored;
      for (int i = 0; i < stored.length; i++) {
        nifti.values[k * stored.length + i] = stored[i];
      }
    }
    Files.createDirectories(file.getParent());
    return nifti.write(file);
  }

  private static double[] negated(double[] row) {
    return new double[] {-row[0], -row[1], -row[2], -row[3]};
  }

  private static double[] tilted(double degrees) {
    // Axial, turned about the patient's left-right axis, as a tilted head scan.
    double t = Math.toRadians(degrees);
    return new double[] {1, 0, 0, 0, Math.cos(t), Math.sin(t)};
  }

  /** pydicom's rtdose.dcm: 15 frames placed by GridFrameOffsetVector, 32-bit unsigned, scaled to Gy. */
  @Test
  void realRtDoseGrid_placesFramesByGridOffsets_andScalesToGray() throws Exception {
    Path rtdose = Path.of(DicomSeriesTest.class.getResource("/dicom/rtdose.dcm").toURI());

    NiftiVolumes.Volume dose = DicomSeries.read(rtdose);

    assertEquals(List.of(15, 10, 10), List.of(dose.depth(), dose.height(), dose.width()));
    assertEquals(5.0, dose.spacing().depth(), 1e-9);
    assertEquals(10.0, dose.spacing().height(), 1e-9);
    double sum = 0;
    for (float value : dose.values()) {
      sum += value;
    }
    assertEquals(1519.91, sum, 1e-3);
    // Figures from pydicom (src/test/resources/dicom/README.md), [depth, height, width] in RAS+.
    double[][] expected = {{0, 0, 0, 0.798}, {14, 9, 9, 1.249}, {7, 4, 5, 0.976}, {3, 8, 1, 1.197}, {10, 2, 6, 0.885}};
    for (double[] voxel : expected) {
      int index = ((int) voxel[0] * dose.height() + (int) voxel[1]) * dose.width() + (int) voxel[2];
      assertEquals(voxel[3], dose.values()[index], 1e-6, "voxel " + (int) voxel[0] + "," + (int) voxel[1] + ","
          + (int) voxel[2]);
    }
  }

  @Test
  void read_filesNamedInReversePositionOrder_stacksSlicesByPosition_inRas() throws Exception {
    Path folder = series(dir.resolve("axial"), AXIAL, 4, 3, 2, 2.5);

    NiftiVolumes.Volume volume = DicomSeries.read(folder);

    assertEquals(List.of(4, 3, 2), List.of(volume.depth(), volume.height(), volume.width()));
    assertSpacing(new VolumePreprocessing.Spacing(2.5, 0.8, 0.6), volume.spacing());
    // Axial LPS: columns run towards Left and rows towards Posterior, so RAS reverses both; slices run Superior.
    for (int s = 0; s < 4; s++) {
      for (int a = 0; a < 3; a++) {
        for (int r = 0; r < 2; r++) {
          assertEquals((1 - r) + 7 * (2 - a) + 31 * s, volume.values()[(s * 3 + a) * 2 + r], 0,
              "voxel (r, a, s) = (" + r + ", " + a + ", " + s + ")");
        }
      }
    }
  }

  @Test
  void read_eachSlicesOwnSlopeAndIntercept_isApplied() throws Exception {
    Path folder = dir.resolve("ct");
    Files.createDirectories(folder);
    double[][] slopeAndIntercept = {{1, -1024}, {2, -1014}, {0.5, 0}, {3, 7}};
    for (int k = 0; k < 4; k++) {
      DicomFile slice = slice(AXIAL, k, 1, 2, 1);
      slice.stored = new short[] {-100, 300};
      slice.slope = slopeAndIntercept[k][0];
      slice.intercept = slopeAndIntercept[k][1];
      slice.write(folder.resolve("s" + k));
    }

    float[] values = DicomSeries.read(folder).values();

    // Axial columns run towards Left, so RAS+ lists each slice's two pixels in reverse.
    assertArrayEquals(new float[] {300 - 1024, -100 - 1024, 600 - 1014, -200 - 1014, 150, -50, 907, -293}, values,
        1e-3f);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = ';', value = {
      "axial; 1, 0, 0, 0, 1, 0",
      "sagittal; 0, 1, 0, 0, 0, -1",
      "coronal; 1, 0, 0, 0, 0, -1",
      "oblique, 12 degrees; 1, 0, 0, 0, 0.9781476007, 0.2079116908",
      "oblique sagittal, 20 degrees; 0.3420201433, 0.9396926208, 0, 0, 0, -1"})
  void read_seriesAndItsNiftiConversion_giveTheSameRasVolume(String name, String orientationText)
      throws Exception {
    double[] orientation = java.util.Arrays.stream(orientationText.split(","))
        .mapToDouble(v -> Double.parseDouble(v.trim())).toArray();
    Path folder = series(dir.resolve("dicom"), orientation, 5, 4, 3, 1.5);
    Path nifti = niftiOf(dir.resolve("converted.nii"), orientation, 5, 4, 3, 1.5);

    NiftiVolumes.Volume fromDicom = DicomSeries.read(folder);
    NiftiVolumes.Volume fromNifti = NiftiVolumes.read(nifti, OptionalInt.empty());

    assertEquals(List.of(fromNifti.depth(), fromNifti.height(), fromNifti.width()),
        List.of(fromDicom.depth(), fromDicom.height(), fromDicom.width()));
    assertArrayEquals(fromNifti.values(), fromDicom.values(), 1e-4f);
    assertSpacing(fromNifti.spacing(), fromDicom.spacing());
  }

  private static void assertSpacing(VolumePreprocessing.Spacing expected, VolumePreprocessing.Spacing actual) {
    assertArrayEquals(new double[] {expected.depth(), expected.height(), expected.width()},
        new double[] {actual.depth(), actual.height(), actual.width()}, 1e-5, "spacing in mm (S, A, R)");
  }

  @Test
  void read_aTiltedSeries_matchesItsNiftiConversion_notTheUntiltedOne() throws Exception {
    // Tilted past 45 degrees, rows run nearer Superior than Posterior: the axes must swap as NIfTI's do.
    double[] steep = tilted(60);
    NiftiVolumes.Volume fromDicom = DicomSeries.read(series(dir.resolve("steep"), steep, 3, 4, 2, 2));
    NiftiVolumes.Volume fromNifti = NiftiVolumes.read(niftiOf(dir.resolve("steep.nii"), steep, 3, 4, 2, 2),
        OptionalInt.empty());

    assertEquals(List.of(4, 3, 2), List.of(fromDicom.depth(), fromDicom.height(), fromDicom.width()));
    assertArrayEquals(fromNifti.values(), fromDicom.values(), 1e-4f);
  }

  @Test
  void read_aMissingSlice_namesTheFilesAndPositionsAroundTheGap() throws Exception {
    Path folder = series(dir.resolve("gap"), AXIAL, 5, 2, 2, 2);
    Files.delete(folder.resolve("IM2.dcm"));

    DataLoadException e = assertThrows(DataLoadException.class, () -> DicomSeries.read(folder));

    assertEquals(folder + ": a slice is missing between IM3.dcm at 44 mm and IM1.dcm at 48 mm along the slice"
        + " normal (a gap of 4 mm where the series is spaced 2 mm); export the whole series", e.getMessage());
  }

  @Test
  void read_mixedOrientations_namesBothFiles() throws Exception {
    Path folder = series(dir.resolve("mixed"), AXIAL, 3, 2, 2, 1);
    slice(SAGITTAL, 0, 2, 2, 1).write(folder.resolve("localizer.dcm"));

    DataLoadException e = assertThrows(DataLoadException.class, () -> DicomSeries.read(folder));

    assertEquals(folder + ": mixes orientations: IM1.dcm has ImageOrientationPatient [1\\0\\0\\0\\1\\0] but"
        + " localizer.dcm has [0\\1\\0\\0\\0\\-1] (a localizer among the slices?); keep one orientation per study",
        e.getMessage());
  }

  @Test
  void read_twoSeriesInOneFolder_listsEachSeriesFiles() throws Exception {
    Path folder = series(dir.resolve("two"), AXIAL, 2, 2, 2, 1);
    DicomFile other = slice(AXIAL, 2, 2, 2, 1);
    other.seriesUid = "1.2.826.0.1.3680043.2.1125.2";
    other.write(folder.resolve("IM0.dcm"));

    DataLoadException e = assertThrows(DataLoadException.class, () -> DicomSeries.read(folder));

    assertEquals(folder + ": holds 2 series (SeriesInstanceUID 1.2.826.0.1.3680043.2.1125.2: IM0.dcm;"
        + " SeriesInstanceUID 1.2.826.0.1.3680043.2.1125.1: IM1.dcm, IM2.dcm); keep one series per study folder",
        e.getMessage());
  }

  @Test
  void read_multiFrameFile_equalsTheSameSeriesAsSingleFrameFiles() throws Exception {
    double[] orientation = tilted(12);
    Path folder = series(dir.resolve("single"), orientation, 3, 2, 3, 2.5);
    DicomFile multi = slice(orientation, 0, 2, 3, 2.5);
    multi.spacingBetweenSlices = 2.5;
    multi.stored = new short[3 * 2 * 3];
    for (int k = 0; k < 3; k++) {
      System.arraycopy(slice(orientation, k, 2, 3, 2.5).stored, 0, multi.stored, k * 6, 6);
    }
    Path file = multi.write(dir.resolve("multi.dcm"));

    NiftiVolumes.Volume fromFrames = DicomSeries.read(file);
    NiftiVolumes.Volume fromSlices = DicomSeries.read(folder);

    assertEquals(List.of(3, 2, 3), List.of(fromFrames.depth(), fromFrames.height(), fromFrames.width()));
    assertArrayEquals(fromSlices.values(), fromFrames.values(), 0);
  }

  /** An enhanced multi-frame file of {@link #slice}s at the given slice indices, in that frame order. */
  private Path enhanced(String name, double[] orientation, int... sliceIndices) throws Exception {
    DicomFile file = slice(orientation, 0, 2, 3, 2.5);
    file.framePositions = new double[sliceIndices.length][];
    file.stored = new short[sliceIndices.length * 6];
    for (int frame = 0; frame < sliceIndices.length; frame++) {
      DicomFile slice = slice(orientation, sliceIndices[frame], 2, 3, 2.5);
      file.framePositions[frame] = slice.position;
      System.arraycopy(slice.stored, 0, file.stored, frame * 6, 6);
    }
    return file.write(dir.resolve(name));
  }

  @Test
  void read_enhancedMultiFrameFile_placesFramesByTheirOwnPositions_inPositionOrder() throws Exception {
    double[] orientation = tilted(12);
    Path file = enhanced("enhanced.dcm", orientation, 2, 0, 3, 1);
    Path folder = series(dir.resolve("single"), orientation, 4, 2, 3, 2.5);

    NiftiVolumes.Volume fromFrames = DicomSeries.read(file);
    NiftiVolumes.Volume fromSlices = DicomSeries.read(folder);

    assertEquals(List.of(4, 2, 3), List.of(fromFrames.depth(), fromFrames.height(), fromFrames.width()));
    assertArrayEquals(fromSlices.values(), fromFrames.values(), 0);
  }

  @Test
  void read_enhancedMultiFrameFileMissingAFrame_namesTheFramesAroundTheGap() throws Exception {
    Path file = enhanced("gap.dcm", AXIAL, 3, 0, 1);

    DataLoadException e = assertThrows(DataLoadException.class, () -> DicomSeries.read(file));

    assertEquals(file + ": a slice is missing between frame 3 at 42.5 mm and frame 1 at 47.5 mm along the slice"
        + " normal (a gap of 5 mm where the series is spaced 2.5 mm); export the whole series", e.getMessage());
  }

  @Test
  void read_multiFrameFileWithoutSliceSpacing_saysWhatIsMissing() throws Exception {
    DicomFile multi = slice(AXIAL, 0, 2, 2, 1);
    multi.stored = new short[2 * 4];
    multi.sliceThickness = 0;
    Path file = multi.write(dir.resolve("flat.dcm"));

    DataLoadException e = assertThrows(DataLoadException.class, () -> DicomSeries.read(file));

    assertEquals(file + ": has neither SpacingBetweenSlices (0018,0088) nor SliceThickness (0018,0050), so its"
        + " frames cannot be placed", e.getMessage());
  }
}
