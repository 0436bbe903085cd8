package org.medfed.examples.synthetic;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/**
 * How a hospital holds its CT studies on disk, each as the agent's {@code volume_folders} loader
 * finds them in a class folder. Every format stores the voxels in its own axis order, so the loader
 * must reorient each to RAS+ to recover the generated volume:
 * <ul>
 *   <li>{@link #DICOM_SERIES}: a folder of single-frame files, one per axial slice, in DICOM's usual
 *       LPS layout (columns towards patient left, rows towards posterior), the files named at random
 *       and written in shuffled order, so that only ImagePositionPatient gives the slice order;
 *   <li>{@link #NIFTI}: a {@code .nii.gz} file stored left to right (radiological, as dcm2niix
 *       writes), its sform saying so;
 *   <li>{@link #MULTIFRAME_DICOM}: one classic multi-frame {@code .dcm} file, rows towards anterior
 *       and frames running from head to feet (the slice normal points inferior).
 * </ul>
 * Each format has its own rescale slope and intercept, as scanners and converters differ.
 */
public enum StudyFormat {
  DICOM_SERIES(new Layout(true, true, false), 1, -1024),
  NIFTI(new Layout(true, false, false), 0.25, -100),
  MULTIFRAME_DICOM(new Layout(true, false, true), 0.5, -1024);

  /** Voxel size in mm, in plane and between slices; the loader ignores it unless told to resample. */
  private static final double PIXEL_MM = 0.8;
  private static final double SLICE_MM = 1.5;
  /** Where the first voxel lies (LPS, mm), as a scanner's table position would put it. */
  private static final double[] CORNER = {-6.0, -8.5, 40.0};

  private final Layout layout;
  private final double slope;
  private final double intercept;

  StudyFormat(Layout layout, double slope, double intercept) {
    this.layout = layout;
    this.slope = slope;
    this.intercept = intercept;
  }

  /**
   * Which stored axes run against RAS+: stored axis i (columns), j (rows) and k (slices) go along
   * R, A and S, each reversed when its flag is set.
   */
  private record Layout(boolean flipR, boolean flipA, boolean flipS) {}

  /**
   * Writes one study into {@code classFolder} and returns its path.
   *
   * @param ras the volume in RAS+ order, {@code ras[(s * size + a) * size + r]}, in modality units
   * @param random draws the UIDs and, for a series, the file names and writing order
   */
  public Path write(Path classFolder, String study, float[] ras, int size, Random random) throws IOException {
    Files.createDirectories(classFolder);
    short[] stored = stored(ras, size);
    String studyUid = DicomWriter.uid(random.nextLong());
    String seriesUid = DicomWriter.uid(random.nextLong());
    return switch (this) {
      case DICOM_SERIES -> {
        Path folder = Files.createDirectories(classFolder.resolve(study));
        List<Integer> order = new ArrayList<>();
        for (int k = 0; k < size; k++) {
          order.add(k);
        }
        Collections.shuffle(order, random);
        int plane = size * size;
        for (int k : order) {
          short[] slice = new short[plane];
          System.arraycopy(stored, k * plane, slice, 0, plane);
          DicomWriter.Image image = new DicomWriter.Image(studyUid, seriesUid, k + 1,
              new double[] {CORNER[0], CORNER[1], CORNER[2] + k * SLICE_MM}, new double[] {1, 0, 0, 0, 1, 0},
              new double[] {PIXEL_MM, PIXEL_MM}, SLICE_MM, slope, intercept, size, size);
          // No extension, as PACS exports often are; the name says nothing about the slice.
          DicomWriter.write(folder.resolve(HexFormat.of().toHexDigits(random.nextLong())), image, slice);
        }
        yield folder;
      }
      case NIFTI -> {
        Path file = classFolder.resolve(study + ".nii.gz");
        // LPS corner to RAS: x and y negated. Stored i runs towards the left, so R decreases along it.
        double[][] affine = {
            {-PIXEL_MM, 0, 0, -CORNER[0]}, {0, PIXEL_MM, 0, -CORNER[1]}, {0, 0, SLICE_MM, CORNER[2]}};
        NiftiWriter.write(file, new int[] {size, size, size}, affine, stored, slope, intercept);
        yield file;
      }
      case MULTIFRAME_DICOM -> {
        Path file = classFolder.resolve(study + ".dcm");
        // Rows towards anterior (-y in LPS), so the normal (row x column) points to the feet.
        DicomWriter.Image image = new DicomWriter.Image(studyUid, seriesUid, 1, CORNER,
            new double[] {1, 0, 0, 0, -1, 0}, new double[] {PIXEL_MM, PIXEL_MM}, SLICE_MM, slope, intercept, size,
            size);
        DicomWriter.write(file, image, stored);
        yield file;
      }
    };
  }

  /** The voxels in this format's storage order (i fastest), quantised to int16 with its slope and intercept. */
  private short[] stored(float[] ras, int size) {
    if (ras.length != size * size * size) {
      throw new IllegalArgumentException(ras.length + " voxels do not make a " + size + "^3 volume");
    }
    short[] out = new short[ras.length];
    for (int k = 0; k < size; k++) {
      int s = layout.flipS() ? size - 1 - k : k;
      for (int j = 0; j < size; j++) {
        int a = layout.flipA() ? size - 1 - j : j;
        for (int i = 0; i < size; i++) {
          int r = layout.flipR() ? size - 1 - i : i;
          long value = Math.round((ras[(s * size + a) * size + r] - intercept) / slope);
          out[(k * size + j) * size + i] = (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, value));
        }
      }
    }
    return out;
  }

  /** The largest difference quantisation makes between a written and a read modality value. */
  public double precision() {
    return slope / 2;
  }
}
