package org.medfed.nodeagent.data;

import ij.plugin.DICOM;
import ij.util.DicomTools;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * A DICOM study as one volume, in the representation {@link NiftiVolumes} gives (modality values in
 * RAS+ order), so {@link VolumeFolderLoader} treats both alike. A study is either a folder holding
 * one series, one single-frame file per slice, or one multi-frame file.
 *
 * <p>A folder's slices are ordered by their position along the slice normal (ImagePositionPatient ·
 * (row × column direction cosines of ImageOrientationPatient)), never by file name. The load stops,
 * naming the files, when the folder holds a second SeriesInstanceUID, mixes orientations, image sizes
 * or pixel spacings, puts two slices at one position, or spaces them unevenly (a gap larger than the
 * typical spacing is reported as a missing slice). Each slice is rescaled with its own slope and
 * intercept. DICOM patient coordinates are LPS; the voxel-to-world matrix built from
 * ImageOrientationPatient, PixelSpacing and the first and last positions is turned to RAS (x and y
 * negated) and the volume reoriented by {@link RasOrientation}, as a NIfTI file is.
 *
 * <p>A multi-frame file is read as ImageJ opens it, a stack, and its frames go through the same
 * ordering and checks as a folder's slices. ImageJ has no per-frame API but lists elements nested in
 * sequences among its header lines, so an enhanced file's per-frame ImagePositionPatient (and the
 * shared or per-frame orientation and pixel spacing) are read from there; a file with one
 * ImagePositionPatient places frame {@code k} at it plus its GridFrameOffsetVector entry (an RT Dose
 * grid), else {@code k} times SpacingBetweenSlices (else SliceThickness), along the normal.
 */
final class DicomSeries {
  /** How far two direction cosines may differ and still be called one orientation. */
  private static final double ORIENTATION_TOLERANCE = 1e-4;
  /** How far (as a share of the typical spacing) a slice's spacing may stray before the series is refused. */
  private static final double SPACING_TOLERANCE = 0.1;
  private static final String SERIES_UID = "0020,000E";
  private static final String POSITION = "0020,0032";
  private static final String ORIENTATION = "0020,0037";
  private static final String PIXEL_SPACING = "0028,0030";
  private static final String SLICE_THICKNESS = "0018,0050";
  private static final String SPACING_BETWEEN_SLICES = "0018,0088";
  private static final String GRID_FRAME_OFFSETS = "3004,000C";
  private static final Map<String, String> NAMES = Map.of(POSITION, "ImagePositionPatient", ORIENTATION,
      "ImageOrientationPatient", PIXEL_SPACING, "PixelSpacing");
  private static final String ENHANCED_HINT = "; a volume needs it on every slice (or, in an enhanced multi-frame"
      + " file, in its functional groups)";

  private DicomSeries() {}

  /** Reads a study folder (one series) or a multi-frame file as one RAS+ volume of modality values. */
  static NiftiVolumes.Volume read(Path study) {
    return Files.isDirectory(study) ? readFolder(study) : readMultiFrame(study);
  }

  /** One slice (a single-frame file or one frame) named for messages, its geometry and its modality values. */
  private record Slice(String name, Geometry geometry, double position, float[] values) {
    Slice(String name, Geometry geometry, float[] values) {
      this(name, geometry, dot(geometry.corner(), geometry.normal()), values);
    }
  }

  /** What a slice says about where it lies: the direction cosines, in-plane spacing and size, and its corner. */
  private record Geometry(double[] row, double[] column, double rowSpacing, double columnSpacing, int rows,
      int columns, double[] corner) {
    double[] normal() {
      return new double[] {row[1] * column[2] - row[2] * column[1], row[2] * column[0] - row[0] * column[2],
          row[0] * column[1] - row[1] * column[0]};
    }

    boolean sameOrientation(Geometry other) {
      for (int i = 0; i < 3; i++) {
        if (Math.abs(row[i] - other.row[i]) > ORIENTATION_TOLERANCE
            || Math.abs(column[i] - other.column[i]) > ORIENTATION_TOLERANCE) {
          return false;
        }
      }
      return true;
    }

    String orientation() {
      return format(row[0], row[1], row[2], column[0], column[1], column[2]);
    }

    Geometry at(double[] newCorner) {
      return new Geometry(row, column, rowSpacing, columnSpacing, rows, columns, newCorner);
    }
  }

  private static NiftiVolumes.Volume readFolder(Path folder) {
    List<Path> files = list(folder);
    if (files.isEmpty()) {
      throw new DataLoadException(folder + ": study folder holds no DICOM files");
    }
    Map<String, List<Path>> bySeries = new LinkedHashMap<>();
    List<Slice> slices = new ArrayList<>();
    for (Path file : files) {
      DICOM dicom = DicomImages.open(file);
      if (dicom.getStackSize() > 1) {
        throw new DataLoadException(file + ": holds " + dicom.getStackSize() + " frames inside a series folder;"
            + " put a multi-frame file directly in the class folder as its own study");
      }
      bySeries.computeIfAbsent(Optional.ofNullable(tag(dicom, SERIES_UID)).orElse("(none)"), k -> new ArrayList<>())
          .add(file);
      double[] orientation = numbers(file, DicomImages.decimals(dicom, ORIENTATION), ORIENTATION, 6);
      double[] spacing = numbers(file, DicomImages.decimals(dicom, PIXEL_SPACING), PIXEL_SPACING, 2);
      double[] position = numbers(file, DicomImages.decimals(dicom, POSITION), POSITION, 3);
      slices.add(new Slice(file.getFileName().toString(), geometry(file, dicom, orientation, spacing, position),
          DicomImages.modalityValues(dicom, 1)));
    }
    if (bySeries.size() > 1) {
      throw new DataLoadException(folder + ": holds " + bySeries.size() + " series (" + bySeries.entrySet().stream()
          .map(e -> "SeriesInstanceUID " + e.getKey() + ": " + names(e.getValue())).collect(Collectors.joining("; "))
          + "); keep one series per study folder");
    }
    return stack(folder, slices);
  }

  /**
   * A multi-frame file's frames as slices. ImageJ lists the elements nested in sequences among its
   * header lines, in file order; an enhanced file's per-frame functional groups thus give one
   * ImagePositionPatient per frame (and its shared groups the orientation and pixel spacing). Without
   * them, frame k lies at the one ImagePositionPatient plus k slice spacings along the normal.
   */
  private static NiftiVolumes.Volume readMultiFrame(Path file) {
    DICOM dicom = DicomImages.open(file);
    int frames = dicom.getStackSize();
    if (frames < 2) {
      throw new DataLoadException(file + ": is a single-frame DICOM file, one slice; put the series' files in a"
          + " folder of their own as one study");
    }
    List<double[]> positions = perFrame(file, dicom, POSITION, 3, frames);
    List<double[]> orientations = perFrame(file, dicom, ORIENTATION, 6, frames);
    List<double[]> spacings = perFrame(file, dicom, PIXEL_SPACING, 2, frames);
    double[] offsets = positions.size() == 1 ? frameOffsets(file, dicom, frames) : new double[0];
    List<Slice> slices = new ArrayList<>();
    for (int k = 0; k < frames; k++) {
      Geometry geometry = geometry(file, dicom, orientations.get(Math.min(k, orientations.size() - 1)),
          spacings.get(Math.min(k, spacings.size() - 1)), positions.get(Math.min(k, positions.size() - 1)));
      if (positions.size() == 1) {
        geometry = geometry.at(plus(positions.get(0), scale(geometry.normal(), offsets[k])));
      }
      slices.add(new Slice("frame " + (k + 1), geometry, DicomImages.modalityValues(dicom, k + 1)));
    }
    return stack(file, slices);
  }

  /** A tag's values in a multi-frame file: one for all frames, or one per frame. */
  private static List<double[]> perFrame(Path file, DICOM dicom, String tag, int count, int frames) {
    List<double[]> values = DicomImages.allDecimals(dicom, tag);
    if (values.size() != 1 && values.size() != frames) {
      throw new DataLoadException(file + ": has " + values.size() + " " + NAMES.get(tag) + " (" + tag + ") values"
          + " for " + frames + " frames; expected one, or one per frame" + (values.isEmpty() ? ENHANCED_HINT : ""));
    }
    for (double[] value : values) {
      numbers(file, value, tag, count);
    }
    return values;
  }

  /** Orders slices by position, checks them, and stacks them into one RAS+ volume. */
  private static NiftiVolumes.Volume stack(Path source, List<Slice> slices) {
    if (slices.size() < 2) {
      throw new DataLoadException(source + ": holds one slice (" + slices.get(0).name() + "); a volume needs at"
          + " least two");
    }
    checkConsistent(source, slices);
    List<Slice> sorted = new ArrayList<>(slices);
    sorted.sort(Comparator.comparingDouble(Slice::position));
    checkSpacing(source, sorted);
    Geometry first = sorted.get(0).geometry();
    // The mean step from the first slice to the last: along the normal, or slanted for a tilted gantry.
    double[] step = scale(minus(sorted.get(sorted.size() - 1).geometry().corner(), first.corner()),
        1.0 / (sorted.size() - 1));
    int plane = first.rows() * first.columns();
    float[] values = new float[sorted.size() * plane];
    for (int k = 0; k < sorted.size(); k++) {
      System.arraycopy(sorted.get(k).values(), 0, values, k * plane, plane);
    }
    return toRas(source, first, step, sorted.size(), values);
  }

  /**
   * The voxel-to-world matrix in LPS (columns: a step along a row, i.e. to the next column index; a
   * step down a column; a step to the next slice), negated in x and y for RAS.
   */
  private static NiftiVolumes.Volume toRas(Path source, Geometry g, double[] sliceStep, int slices, float[] values) {
    double[] i = scale(g.row(), g.columnSpacing());
    double[] j = scale(g.column(), g.rowSpacing());
    double[][] lps = {{i[0], j[0], sliceStep[0]}, {i[1], j[1], sliceStep[1]}, {i[2], j[2], sliceStep[2]}};
    double[][] ras = {
        {-lps[0][0], -lps[0][1], -lps[0][2]}, {-lps[1][0], -lps[1][1], -lps[1][2]}, lps[2].clone()};
    return RasOrientation.reorient(source, ras, new int[] {g.columns(), g.rows(), slices}, values);
  }

  private static Geometry geometry(Path file, DICOM dicom, double[] orientation, double[] spacing,
      double[] position) {
    double[] row = Arrays.copyOfRange(orientation, 0, 3);
    double[] column = Arrays.copyOfRange(orientation, 3, 6);
    if (Math.abs(norm(row) - 1) > 1e-2 || Math.abs(norm(column) - 1) > 1e-2 || Math.abs(dot(row, column)) > 1e-2
        || !(spacing[0] > 0 && spacing[1] > 0)) {
      throw new DataLoadException(file + ": ImageOrientationPatient " + format(orientation) + " is not two unit"
          + " vectors at right angles, or PixelSpacing " + format(spacing) + " is not positive");
    }
    // PixelSpacing is (between rows, between columns): the first is the step down a column.
    return new Geometry(row, column, spacing[0], spacing[1], dicom.getHeight(), dicom.getWidth(), position);
  }

  private static void checkConsistent(Path source, List<Slice> slices) {
    Slice first = slices.get(0);
    Geometry g = first.geometry();
    for (Slice slice : slices) {
      Geometry other = slice.geometry();
      if (!g.sameOrientation(other)) {
        throw new DataLoadException(source + ": mixes orientations: " + first.name()
            + " has ImageOrientationPatient " + g.orientation() + " but " + slice.name() + " has "
            + other.orientation() + " (a localizer among the slices?); keep one orientation per study");
      }
      if (g.rows() != other.rows() || g.columns() != other.columns()
          || Math.abs(g.rowSpacing() - other.rowSpacing()) > 1e-4
          || Math.abs(g.columnSpacing() - other.columnSpacing()) > 1e-4) {
        throw new DataLoadException(source + ": " + first.name() + " is " + g.rows() + "x"
            + g.columns() + " pixels of " + format(g.rowSpacing(), g.columnSpacing()) + " mm but "
            + slice.name() + " is " + other.rows() + "x" + other.columns() + " pixels of "
            + format(other.rowSpacing(), other.columnSpacing()) + " mm; keep one series per study");
      }
    }
  }

  /** Slices sorted by position must be evenly spaced; a larger gap means a missing slice. */
  private static void checkSpacing(Path source, List<Slice> slices) {
    double[] gaps = new double[slices.size() - 1];
    for (int k = 1; k < slices.size(); k++) {
      gaps[k - 1] = slices.get(k).position() - slices.get(k - 1).position();
    }
    double[] sorted = gaps.clone();
    Arrays.sort(sorted);
    // The lower median: with few slices, a gap must not pass for the typical spacing.
    double typical = sorted[(sorted.length - 1) / 2];
    for (int k = 1; k < slices.size(); k++) {
      Slice before = slices.get(k - 1);
      Slice after = slices.get(k);
      double gap = gaps[k - 1];
      String where = before.name() + " at " + format(before.position()) + " mm and "
          + after.name() + " at " + format(after.position()) + " mm along the slice normal";
      if (gap < 1e-4) {
        throw new DataLoadException(source + ": two slices at one position: " + where + "; remove the duplicate");
      }
      if (gap > typical * (1 + SPACING_TOLERANCE)) {
        throw new DataLoadException(source + ": a slice is missing between " + where + " (a gap of "
            + format(gap) + " mm where the series is spaced " + format(typical) + " mm); export the whole series");
      }
      if (gap < typical * (1 - SPACING_TOLERANCE)) {
        throw new DataLoadException(source + ": uneven spacing between " + where + " (" + format(gap)
            + " mm where the series is spaced " + format(typical) + " mm); export one evenly spaced series");
      }
    }
  }

  /**
   * Each frame's distance along the normal from the one ImagePositionPatient of a multi-frame file:
   * an RT Dose's GridFrameOffsetVector (relative, starting at 0, or absolute, starting at the
   * position's own coordinate: either way taken from its first entry), else even steps of the slice
   * spacing.
   */
  private static double[] frameOffsets(Path file, DICOM dicom, int frames) {
    // ImageJ leaves this element out of its header lines, so it is read from the file itself.
    double[] grid = DicomImages.rawDecimals(file, 0x3004, 0x000C);
    if (grid.length == 0) {
      double spacing = sliceSpacing(file, dicom);
      return IntStream.range(0, frames).mapToDouble(k -> k * spacing).toArray();
    }
    if (grid.length != frames) {
      throw new DataLoadException(file + ": its GridFrameOffsetVector (" + GRID_FRAME_OFFSETS + ") has " + grid.length
          + " values for " + frames + " frames; re-export the dose grid");
    }
    double first = grid[0];
    return Arrays.stream(grid).map(offset -> offset - first).toArray();
  }

  /** The distance between frames of a multi-frame file that gives one position for all. */
  private static double sliceSpacing(Path file, DICOM dicom) {
    for (String tag : List.of(SPACING_BETWEEN_SLICES, SLICE_THICKNESS)) {
      double[] value = DicomImages.decimals(dicom, tag);
      if (value.length > 0 && value[0] > 0) {
        return value[0];
      }
    }
    throw new DataLoadException(file + ": has neither SpacingBetweenSlices (0018,0088) nor SliceThickness"
        + " (0018,0050), so its frames cannot be placed");
  }

  /** A tag's values, checked for their count; a missing tag is named with what to do. */
  private static double[] numbers(Path file, double[] values, String tag, int count) {
    if (values.length != count) {
      throw new DataLoadException(file + ": " + NAMES.get(tag) + " (" + tag + ") " + (values.length == 0
          ? "is missing" + ENHANCED_HINT : "has " + values.length + " values, expected " + count));
    }
    return values;
  }

  private static String tag(DICOM dicom, String tag) {
    String value = DicomTools.getTag(dicom, tag);
    return value == null ? null : value.trim();
  }

  private static List<Path> list(Path folder) {
    try (Stream<Path> entries = Files.list(folder)) {
      // Hidden files (.DS_Store and the like) are not slices.
      return entries.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("."))
          .sorted().toList();
    } catch (IOException e) {
      throw new DataLoadException("cannot list " + folder + ": " + e.getMessage(), e);
    }
  }

  private static String names(List<Path> files) {
    return files.stream().map(f -> f.getFileName().toString()).collect(Collectors.joining(", "));
  }

  private static String format(double... values) {
    // Six significant digits without trailing zeros: "-12.5", not "-12.5000".
    return Arrays.stream(values).mapToObj(v -> new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros()
            .toPlainString()).collect(Collectors.joining("\\", values.length > 1 ? "[" : "", values.length > 1 ? "]" : ""));
  }

  private static double dot(double[] a, double[] b) {
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  }

  private static double norm(double[] a) {
    return Math.sqrt(dot(a, a));
  }

  private static double[] plus(double[] a, double[] b) {
    return new double[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]};
  }

  private static double[] minus(double[] a, double[] b) {
    return new double[] {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
  }

  private static double[] scale(double[] a, double factor) {
    return new double[] {a[0] * factor, a[1] * factor, a[2] * factor};
  }
}
