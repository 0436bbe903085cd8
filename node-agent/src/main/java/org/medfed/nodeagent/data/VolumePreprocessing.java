package org.medfed.nodeagent.data;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a hospital does to each 3D volume before training, so that scans of different sizes and
 * scanners fit one job: pick one volume of a 4D file, resample (trilinear, voxel centres aligned,
 * as the 2D loader's bilinear) to {@code depth x height x width} voxels or to a voxel spacing in
 * mm, and scale intensities.
 *
 * @param size the size every volume is brought to; empty keeps native sizes (which must then all match)
 * @param spacing the voxel size in mm every volume is resampled to, keeping its extent (so studies
 *     of one field of view at different resolutions line up); empty keeps native spacing. Not with
 *     {@code size}: a resize after it would undo the spacing
 * @param intensity how voxel values are scaled
 * @param volume for 4D files, the 0-based volume to take; empty refuses 4D files
 * @param heapShare the share of the agent's maximum heap the loaded volumes may take, in (0, 1]
 */
public record VolumePreprocessing(Optional<Size> size, Optional<Spacing> spacing, Intensity intensity,
    OptionalInt volume, double heapShare) {
  public static final VolumePreprocessing DEFAULTS = new VolumePreprocessing(Optional.empty(), Optional.empty(),
      new Intensity.ZScore(), OptionalInt.empty(), 0.5);

  /** A volume's size in voxels. */
  public record Size(int depth, int height, int width) {
    public Size {
      if (depth < 1 || height < 1 || width < 1 || depth > 2048 || height > 2048 || width > 2048) {
        throw new IllegalArgumentException("resize must be [depth, height, width] in 1..2048, got [" + depth + ", "
            + height + ", " + width + "]");
      }
    }
  }

  /** A voxel's size in mm along depth (S), height (A) and width (R). */
  public record Spacing(double depth, double height, double width) {
    public Spacing {
      if (!(depth > 0 && height > 0 && width > 0 && depth < 1e4 && height < 1e4 && width < 1e4)) {
        throw new IllegalArgumentException("spacing must be [depth, height, width] in mm, each positive, got ["
            + depth + ", " + height + ", " + width + "]");
      }
    }

    /** The voxels that cover {@code count} voxels of {@code from} mm at {@code to} mm, at least one. */
    static int resampled(int count, double from, double to) {
      return (int) Math.max(1, Math.round(count * from / to));
    }
  }

  /** How voxel values are scaled, per volume. */
  public sealed interface Intensity {
    /** Each volume minus its mean, over its standard deviation (MR, whose units differ by scanner). */
    record ZScore() implements Intensity {}

    /** A fixed window to [0, 1], as the 2D DICOM loader (CT in Hounsfield units). */
    record Window(DicomWindow window) implements Intensity {
      public Window {
        Objects.requireNonNull(window, "window");
      }
    }

    /** The values as stored (after the file's slope and intercept). */
    record None() implements Intensity {}
  }

  public VolumePreprocessing {
    Objects.requireNonNull(size, "size");
    Objects.requireNonNull(spacing, "spacing");
    if (size.isPresent() && spacing.isPresent()) {
      throw new IllegalArgumentException("spacing and resize are both declared; declare one (resize after"
          + " resampling to a spacing would change the spacing again)");
    }
    Objects.requireNonNull(intensity, "intensity");
    Objects.requireNonNull(volume, "volume");
    if (volume.isPresent() && volume.getAsInt() < 0) {
      throw new IllegalArgumentException("volume must be a 0-based index >= 0, got " + volume.getAsInt());
    }
    if (!(heapShare > 0 && heapShare <= 1)) {
      throw new IllegalArgumentException("memory_share must be in (0, 1], got " + heapShare);
    }
  }

  /** The volume resampled to {@link #size} or {@link #spacing} (if declared) and scaled; {@code values} is not changed. */
  float[] apply(NiftiVolumes.Volume volume) {
    long[] shape = shape(volume);
    float[] values = volume.values();
    if (size.isPresent() || spacing.isPresent()) {
      values = trilinear(values, volume.depth(), volume.height(), volume.width(), (int) shape[1], (int) shape[2],
          (int) shape[3]);
    } else {
      values = values.clone();
    }
    if (intensity instanceof Intensity.ZScore) {
      zscore(values);
    } else if (intensity instanceof Intensity.Window w) {
      for (int i = 0; i < values.length; i++) {
        values[i] = w.window().apply(values[i]);
      }
    }
    return values;
  }

  /** The per-sample shape {@code [1, depth, height, width]} a volume has once resampled. */
  long[] shape(NiftiVolumes.Volume volume) {
    if (size.isPresent()) {
      Size s = size.get();
      return new long[] {1, s.depth(), s.height(), s.width()};
    }
    if (spacing.isPresent()) {
      Spacing to = spacing.get();
      Spacing from = volume.spacing();
      return new long[] {1, Spacing.resampled(volume.depth(), from.depth(), to.depth()),
          Spacing.resampled(volume.height(), from.height(), to.height()),
          Spacing.resampled(volume.width(), from.width(), to.width())};
    }
    return new long[] {1, volume.depth(), volume.height(), volume.width()};
  }

  /** Trilinear resampling with voxel centres aligned (as torchvision's {@code align_corners=False}). */
  static float[] trilinear(float[] source, int depth, int height, int width, int newDepth, int newHeight,
      int newWidth) {
    float[] out = new float[newDepth * newHeight * newWidth];
    for (int z = 0; z < newDepth; z++) {
      double sz = centre(z, depth, newDepth);
      int z0 = (int) sz;
      int z1 = Math.min(z0 + 1, depth - 1);
      double fz = sz - z0;
      for (int y = 0; y < newHeight; y++) {
        double sy = centre(y, height, newHeight);
        int y0 = (int) sy;
        int y1 = Math.min(y0 + 1, height - 1);
        double fy = sy - y0;
        for (int x = 0; x < newWidth; x++) {
          double sx = centre(x, width, newWidth);
          int x0 = (int) sx;
          int x1 = Math.min(x0 + 1, width - 1);
          double fx = sx - x0;
          double front = lerp(lerp(at(source, z0, y0, x0, height, width), at(source, z0, y0, x1, height, width), fx),
              lerp(at(source, z0, y1, x0, height, width), at(source, z0, y1, x1, height, width), fx), fy);
          double back = lerp(lerp(at(source, z1, y0, x0, height, width), at(source, z1, y0, x1, height, width), fx),
              lerp(at(source, z1, y1, x0, height, width), at(source, z1, y1, x1, height, width), fx), fy);
          out[(z * newHeight + y) * newWidth + x] = (float) lerp(front, back, fz);
        }
      }
    }
    return out;
  }

  private static double centre(int index, int size, int newSize) {
    return Math.min(Math.max((index + 0.5) * size / newSize - 0.5, 0), size - 1);
  }

  private static double at(float[] source, int z, int y, int x, int height, int width) {
    return source[(z * height + y) * width + x];
  }

  private static double lerp(double a, double b, double f) {
    return a * (1 - f) + b * f;
  }

  private static void zscore(float[] values) {
    double sum = 0;
    for (float v : values) {
      sum += v;
    }
    double mean = sum / values.length;
    double squares = 0;
    for (float v : values) {
      squares += (v - mean) * (v - mean);
    }
    double std = Math.sqrt(squares / values.length);
    // A constant volume is only centred: dividing by a zero deviation would make it NaN.
    double scale = std > 1e-12 ? std : 1;
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) ((values[i] - mean) / scale);
    }
  }
}
