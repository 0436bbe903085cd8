package org.medfed.nodeagent.data;

/**
 * A DICOM display window over modality values (e.g. Hounsfield units): values from
 * {@code center - width/2} to {@code center + width/2} map linearly to [0, 1], the rest clamp.
 */
public record DicomWindow(double center, double width) {
  public DicomWindow {
    if (!(width > 0) || !Double.isFinite(center)) {
      throw new IllegalArgumentException("a DICOM window needs a finite centre and a positive width, got centre "
          + center + ", width " + width);
    }
  }

  float apply(double value) {
    double low = center - width / 2;
    return (float) Math.max(0, Math.min(1, (value - low) / width));
  }
}
