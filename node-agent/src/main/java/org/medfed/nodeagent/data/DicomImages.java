package org.medfed.nodeagent.data;

import ij.plugin.DICOM;
import ij.process.ImageProcessor;
import ij.util.DicomTools;
import java.nio.file.Path;
import java.util.Optional;

/**
 * DICOM pixels through ImageJ's reader: stored values become modality values (Hounsfield units for
 * CT) with the file's rescale slope and intercept, then a display window (centre/width, declared
 * per dataset, else the file's own) maps them to [0, 1] as a radiologist would see them.
 */
final class DicomImages {
  private DicomImages() {}

  /** One image's modality values, row by row, and the display window its file names, if any. */
  record Pixels(float[] values, int height, int width, Optional<DicomWindow> fileWindow) {}

  /** Reads the modality values (stored value x slope + intercept) of a single-frame DICOM file. */
  static Pixels modalityValues(Path file) {
    DICOM dicom = new DICOM();
    dicom.open(file.toString());
    ImageProcessor pixels = dicom.getProcessor();
    if (dicom.getWidth() == 0 || pixels == null) {
      throw new DataLoadException(file + ": not a readable DICOM image (ImageJ could not decode it; is it a DICOM"
          + " file with uncompressed or JPEG pixel data?)");
    }
    if (dicom.getStackSize() > 1) {
      throw new DataLoadException(file + ": holds " + dicom.getStackSize() + " frames; export one image per file");
    }
    int height = dicom.getHeight();
    int width = dicom.getWidth();
    var calibration = dicom.getCalibration();
    float[] values = new float[height * width];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        // ImageJ stores signed 16-bit pixels with an offset; its calibration undoes it with the rescale.
        values[y * width + x] = (float) calibration.getCValue(pixels.getPixel(x, y));
      }
    }
    return new Pixels(values, height, width, windowOf(dicom));
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
    String center = DicomTools.getTag(dicom, "0028,1050");
    String width = DicomTools.getTag(dicom, "0028,1051");
    if (center == null || width == null) {
      return Optional.empty();
    }
    try {
      // Multi-valued windows list alternatives separated by a backslash; the first is the default.
      return Optional.of(new DicomWindow(Double.parseDouble(center.trim().split("\\\\")[0]),
          Double.parseDouble(width.trim().split("\\\\")[0])));
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
