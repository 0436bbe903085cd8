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
 * <p>A multi-frame file is read as ImageJ opens it, a stack. ImageJ does not expose per-frame
 * positions (the per-frame functional groups of enhanced multi-frame objects), so frame {@code k}
 * is placed at the file's ImagePositionPatient plus {@code k} times SpacingBetweenSlices (else
 * SliceThickness) along the normal, and a file without a top-level ImageOrientationPatient and
 * ImagePositionPatient is refused.
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

  private DicomSeries() {}

  /** Reads a study folder (one series) or a multi-frame file as one RAS+ volume of modality values. */
  static NiftiVolumes.Volume read(Path study) {
    return Files.isDirectory(study) ? readFolder(study) : readMultiFrame(study);
  }

  /** One slice's geometry and modality values, from one single-frame file. */
  private record Slice(Path file, Geometry geometry, double position, float[] values) {}

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
      Geometry geometry = geometry(file, dicom);
      slices.add(new Slice(file, geometry, dot(geometry.corner(), geometry.normal()),
          DicomImages.modalityValues(dicom, 1)));
    }
    if (bySeries.size() > 1) {
      throw new DataLoadException(folder + ": holds " + bySeries.size() + " series (" + bySeries.entrySet().stream()
          .map(e -> "SeriesInstanceUID " + e.getKey() + ": " + names(e.getValue())).collect(Collectors.joining("; "))
          + "); keep one series per study folder");
    }
    checkConsistent(folder, slices);
    slices.sort(Comparator.comparingDouble(Slice::position));
    checkSpacing(folder, slices);
    Geometry first = slices.get(0).geometry();
    double[] step = slices.size() > 1
        ? scale(minus(slices.get(slices.size() - 1).geometry().corner(), first.corner()), 1.0 / (slices.size() - 1))
        : scale(first.normal(), sliceSpacing(slices.get(0).file(), DicomImages.open(slices.get(0).file())));
    float[] values = new float[slices.size() * first.rows() * first.columns()];
    for (int k = 0; k < slices.size(); k++) {
      System.arraycopy(slices.get(k).values(), 0, values, k * first.rows() * first.columns(),
          first.rows() * first.columns());
    }
    return toRas(folder, first, step, slices.size(), values);
  }

  private static NiftiVolumes.Volume readMultiFrame(Path file) {
    DICOM dicom = DicomImages.open(file);
    int frames = dicom.getStackSize();
    if (frames < 2) {
      throw new DataLoadException(file + ": is a single-frame DICOM file, one slice; put the series' files in a"
          + " folder of their own as one study");
    }
    Geometry geometry = geometry(file, dicom);
    double[] step = scale(geometry.normal(), sliceSpacing(file, dicom));
    int plane = geometry.rows() * geometry.columns();
    float[] values = new float[frames * plane];
    for (int k = 0; k < frames; k++) {
      System.arraycopy(DicomImages.modalityValues(dicom, k + 1), 0, values, k * plane, plane);
    }
    return toRas(file, geometry, step, frames, values);
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

  private static Geometry geometry(Path file, DICOM dicom) {
    double[] orientation = numbers(file, dicom, ORIENTATION, "ImageOrientationPatient", 6);
    double[] position = numbers(file, dicom, POSITION, "ImagePositionPatient", 3);
    double[] spacing = numbers(file, dicom, PIXEL_SPACING, "PixelSpacing", 2);
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

  private static void checkConsistent(Path folder, List<Slice> slices) {
    Slice first = slices.get(0);
    Geometry g = first.geometry();
    for (Slice slice : slices) {
      Geometry other = slice.geometry();
      if (!g.sameOrientation(other)) {
        throw new DataLoadException(folder + ": mixes orientations: " + first.file().getFileName()
            + " has ImageOrientationPatient " + g.orientation() + " but " + slice.file().getFileName() + " has "
            + other.orientation() + " (a localizer among the slices?); keep one orientation per study folder");
      }
      if (g.rows() != other.rows() || g.columns() != other.columns()
          || Math.abs(g.rowSpacing() - other.rowSpacing()) > 1e-4
          || Math.abs(g.columnSpacing() - other.columnSpacing()) > 1e-4) {
        throw new DataLoadException(folder + ": " + first.file().getFileName() + " is " + g.rows() + "x"
            + g.columns() + " pixels of " + format(g.rowSpacing(), g.columnSpacing()) + " mm but "
            + slice.file().getFileName() + " is " + other.rows() + "x" + other.columns() + " pixels of "
            + format(other.rowSpacing(), other.columnSpacing()) + " mm; keep one series per study folder");
      }
    }
  }

  /** Slices sorted by position must be evenly spaced; a larger gap means a missing slice. */
  private static void checkSpacing(Path folder, List<Slice> slices) {
    if (slices.size() < 2) {
      return;
    }
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
      String where = before.file().getFileName() + " at " + format(before.position()) + " mm and "
          + after.file().getFileName() + " at " + format(after.position()) + " mm along the slice normal";
      if (gap < 1e-4) {
        throw new DataLoadException(folder + ": two slices at one position: " + where + "; remove the duplicate");
      }
      if (gap > typical * (1 + SPACING_TOLERANCE)) {
        throw new DataLoadException(folder + ": a slice is missing between " + where + " (a gap of "
            + format(gap) + " mm where the series is spaced " + format(typical) + " mm); export the whole series");
      }
      if (gap < typical * (1 - SPACING_TOLERANCE)) {
        throw new DataLoadException(folder + ": uneven spacing between " + where + " (" + format(gap)
            + " mm where the series is spaced " + format(typical) + " mm); export one evenly spaced series");
      }
    }
  }

  /** The distance between frames of a multi-frame file (or the depth of a one-slice series). */
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

  private static double[] numbers(Path file, DICOM dicom, String tag, String name, int count) {
    double[] values = DicomImages.decimals(dicom, tag);
    if (values.length != count) {
      throw new DataLoadException(file + ": " + name + " (" + tag + ") " + (values.length == 0 ? "is missing"
          : "has " + values.length + " values, expected " + count) + "; a volume needs it on every slice (an"
          + " enhanced multi-frame file keeps it in per-frame functional groups, which are not read: convert it"
          + " with dcm2niix)");
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

  private static double[] minus(double[] a, double[] b) {
    return new double[] {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
  }

  private static double[] scale(double[] a, double factor) {
    return new double[] {a[0] * factor, a[1] * factor, a[2] * factor};
  }
}
