package org.medfed.nodeagent.data;

import ij.Prefs;
import ij.measure.Calibration;
import ij.plugin.DICOM;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.util.DicomTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * DICOM pixels through ImageJ's reader: stored values become modality values (Hounsfield units for
 * CT) with the file's rescale slope and intercept, then a display window (centre/width, declared
 * per dataset, else the file's own) maps them to [0, 1] as a radiologist would see them.
 */
final class DicomImages {
  static {
    // With a rescale slope other than 1, ImageJ would convert the image to 32-bit through its menus,
    // which throws HeadlessException on a server; told to ignore the slope it keeps the stored values,
    // and modalityValues applies slope and intercept itself.
    Prefs.ignoreRescaleSlope = true;
    Prefs.openDicomsAsFloat = false;
  }

  private DicomImages() {}

  /** One image's modality values, row by row, and the display window its file names, if any. */
  record Pixels(float[] values, int height, int width, Optional<DicomWindow> fileWindow) {}

  /** Reads the modality values (stored value x slope + intercept) of a single-frame DICOM file. */
  static Pixels modalityValues(Path file) {
    DICOM dicom = open(file);
    if (dicom.getStackSize() > 1) {
      throw new DataLoadException(file + ": holds " + dicom.getStackSize() + " frames; export one image per file");
    }
    return new Pixels(modalityValues(dicom, 1), dicom.getHeight(), dicom.getWidth(), windowOf(dicom));
  }

  /** Opens a DICOM file with ImageJ, refusing one whose pixels ImageJ cannot decode. */
  static DICOM open(Path file) {
    DICOM dicom = new DICOM();
    dicom.open(file.toString());
    if (dicom.getWidth() == 0 || dicom.getProcessor() == null) {
      throw new DataLoadException(file + ": not a readable DICOM image (ImageJ could not decode it; is it a DICOM"
          + " file with uncompressed pixel data? ImageJ decodes no compressed transfer syntax)");
    }
    return dicom;
  }

  /**
   * The modality values (stored value x slope + intercept) of one frame (1-based, as ImageJ counts)
   * of an opened file, row by row; a multi-frame file has one slope and intercept for all frames. An
   * RT Dose grid's stored values are scaled by its DoseGridScaling (3004,000E) instead, to Gy.
   */
  static float[] modalityValues(DICOM dicom, int frame) {
    ImageProcessor pixels = dicom.getStack().getProcessor(frame);
    int height = dicom.getHeight();
    int width = dicom.getWidth();
    double[] slopes = decimals(dicom, "0028,1053");
    double[] intercepts = decimals(dicom, "0028,1052");
    double[] doseScaling = decimals(dicom, "3004,000E");
    double slope = slopes.length > 0 ? slopes[0] : doseScaling.length > 0 ? doseScaling[0] : 1;
    double intercept = intercepts.length > 0 ? intercepts[0] : 0;
    Calibration calibration = dicom.getCalibration();
    double[] coefficients = calibration.getCoefficients();
    // ImageJ's calibration undoes its offset of signed 16-bit pixels and, when the slope is 1 (or it
    // folded the slope in itself, as for 8-bit images), applies the rescale too; otherwise it gives
    // stored values and the rescale is applied here.
    boolean rescaled = slope == 1 || calibration.getFunction() == Calibration.STRAIGHT_LINE && coefficients != null
        && coefficients.length > 1 && coefficients[1] == slope;
    float[] values = new float[height * width];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        // A 32-bit image is a FloatProcessor, whose getPixel gives the float's bits, not its value.
        double value = pixels instanceof FloatProcessor ? pixels.getf(x, y)
            : calibration.getCValue(pixels.getPixel(x, y));
        values[y * width + x] = (float) (rescaled ? value : value * slope + intercept);
      }
    }
    return values;
  }

  /** A tag's decimal values (backslash-separated in DICOM); empty when absent or unreadable. */
  static double[] decimals(DICOM dicom, String tag) {
    return parse(DicomTools.getTag(dicom, tag));
  }

  private static double[] parse(String value) {
    if (value == null || value.isBlank()) {
      return new double[0];
    }
    try {
      return Arrays.stream(value.trim().split("\\\\")).mapToDouble(v -> Double.parseDouble(v.trim())).toArray();
    } catch (NumberFormatException e) {
      return new double[0];
    }
  }

  /**
   * A decimal-string element read from the file's bytes, for the few elements ImageJ does not list
   * (an RT Dose's GridFrameOffsetVector): the first occurrence of the tag, little endian, explicit
   * ("DS" and a 2-byte length) or implicit VR (a 4-byte length), whose value parses as decimals.
   * Data elements come in tag order, so an element of a group below the pixel data's (7FE0) is met
   * before any pixel bytes. Empty if absent or unreadable.
   */
  static double[] rawDecimals(Path file, int group, int element) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new DataLoadException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
    byte[] tag = {(byte) group, (byte) (group >> 8), (byte) element, (byte) (element >> 8)};
    for (int at = 0; at + 8 <= bytes.length; at++) {
      if (bytes[at] == tag[0] && bytes[at + 1] == tag[1] && bytes[at + 2] == tag[2] && bytes[at + 3] == tag[3]) {
        boolean explicit = bytes[at + 4] == 'D' && bytes[at + 5] == 'S';
        int length = explicit ? (bytes[at + 6] & 0xff) | (bytes[at + 7] & 0xff) << 8
            : ByteBuffer.wrap(bytes, at + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        int start = at + 8;
        // The same four bytes also occur as a value (a Frame Increment Pointer names this very tag):
        // only a length that fits and a value that parses mark the element itself.
        if (length <= 0 || start + length > bytes.length) {
          continue;
        }
        double[] values = parse(new String(bytes, start, length, StandardCharsets.US_ASCII));
        if (values.length > 0) {
          return values;
        }
      }
    }
    return new double[0];
  }

  /**
   * Every value of a tag, nested ones included, in file order. ImageJ's header text has a line
   * {@code "gggg,eeee  Name: value"} per element, with {@code ">"} before the name inside sequences
   * of undefined length; {@link DicomTools#getTag} returns one value and skips nested ones.
   */
  static List<double[]> allDecimals(DICOM dicom, String tag) {
    List<double[]> values = new ArrayList<>();
    if (dicom.getProperty("Info") instanceof String header) {
      for (String line : header.split("\n")) {
        int colon = line.indexOf(':');
        if (line.startsWith(tag) && colon > 0) {
          values.add(parse(line.substring(colon + 1)));
        }
      }
    }
    return values;
  }

  /** Grayscale in [0, 1] through the declared window, else the file's, else the image's own range. */
  static Pixels read(Path file, Optional<DicomWindow> declared) {
    Pixels pixels = modalityValues(file);
    DicomWindow window = declared.or(pixels::fileWindow).orElseGet(() -> range(pixels.values()));
    float[] out = new float[pixels.values().length];
    for (int i = 0; i < out.length; i++) {
      out[i] = window.apply(pixels.values()[i]);
    }
    return new Pixels(out, pixels.height(), pixels.width(), pixels.fileWindow());
  }

  private static Optional<DicomWindow> windowOf(DICOM dicom) {
    double[] center = decimals(dicom, "0028,1050");
    double[] width = decimals(dicom, "0028,1051");
    if (center.length == 0 || width.length == 0) {
      return Optional.empty();
    }
    try {
      // Multi-valued windows list alternatives; the first is taken.
      return Optional.of(new DicomWindow(center[0], width[0]));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static DicomWindow range(float[] values) {
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    for (float v : values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    return new DicomWindow((min + max) / 2.0, Math.max(1e-6, max - min));
  }
}
