package org.medfed.nodeagent.data;

import java.util.Objects;
import java.util.Optional;

/**
 * What a hospital does to each image before training, so that exports of different sizes and
 * colour modes fit one job: resize to {@code height x width} and convert to the job's channels.
 * Shrinking averages the covered source area (as OpenCV's INTER_AREA), so fine detail does not
 * alias; enlarging is bilinear. Works on values already scaled to [0, 1], so 16-bit PNGs and
 * windowed DICOM keep their precision.
 *
 * @param resize the size every image is brought to; empty keeps native sizes (which must then all match)
 * @param channels gray (RGB becomes ITU-R BT.601 luma) or rgb (a gray image is repeated in all three)
 */
public record ImagePreprocessing(Optional<Size> resize, Channels channels) {
  public static final ImagePreprocessing NONE = new ImagePreprocessing(Optional.empty(), Channels.GRAY);

  public enum Channels {
    GRAY(1), RGB(3);

    final int count;

    Channels(int count) {
      this.count = count;
    }
  }

  public record Size(int height, int width) {
    public Size {
      if (height < 1 || width < 1 || height > 4096 || width > 4096) {
        throw new IllegalArgumentException("resize must be [height, width] in 1..4096, got [" + height + ", "
            + width + "]");
      }
    }
  }

  public ImagePreprocessing {
    Objects.requireNonNull(resize, "resize");
    Objects.requireNonNull(channels, "channels");
  }

  /**
   * @param planes the image as read: 1 plane (gray) or 3 (R, G, B), each {@code height * width}
   *     values in [0, 1], row-major
   * @return the image in CHW order with {@link #channels} planes, resized if asked
   */
  float[] apply(float[][] planes, int height, int width) {
    float[][] converted = convert(planes, height * width);
    if (resize.isEmpty() || resize.get().height() == height && resize.get().width() == width) {
      return concat(converted, height * width);
    }
    Size target = resize.get();
    float[][] resized = new float[converted.length][];
    boolean shrinking = target.height() <= height && target.width() <= width;
    for (int c = 0; c < converted.length; c++) {
      resized[c] = shrinking ? area(converted[c], height, width, target.height(), target.width())
          : bilinear(converted[c], height, width, target.height(), target.width());
    }
    return concat(resized, target.height() * target.width());
  }

  private float[][] convert(float[][] planes, int size) {
    if (planes.length == channels.count) {
      return planes;
    }
    if (channels == Channels.GRAY) {
      float[] luma = new float[size];
      for (int i = 0; i < size; i++) {
        luma[i] = 0.299f * planes[0][i] + 0.587f * planes[1][i] + 0.114f * planes[2][i];
      }
      return new float[][] {luma};
    }
    return new float[][] {planes[0], planes[0], planes[0]};
  }

  /** Bilinear resampling with pixel centres aligned (as torchvision and OpenCV's INTER_LINEAR). */
  static float[] bilinear(float[] source, int height, int width, int newHeight, int newWidth) {
    float[] out = new float[newHeight * newWidth];
    double scaleY = (double) height / newHeight;
    double scaleX = (double) width / newWidth;
    for (int y = 0; y < newHeight; y++) {
      double sy = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), height - 1);
      int y0 = (int) sy;
      int y1 = Math.min(y0 + 1, height - 1);
      double fy = sy - y0;
      for (int x = 0; x < newWidth; x++) {
        double sx = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), width - 1);
        int x0 = (int) sx;
        int x1 = Math.min(x0 + 1, width - 1);
        double fx = sx - x0;
        double top = source[y0 * width + x0] * (1 - fx) + source[y0 * width + x1] * fx;
        double bottom = source[y1 * width + x0] * (1 - fx) + source[y1 * width + x1] * fx;
        out[y * newWidth + x] = (float) (top * (1 - fy) + bottom * fy);
      }
    }
    return out;
  }

  /** Each output pixel is the mean of the source area it covers, partial pixels weighted by coverage. */
  static float[] area(float[] source, int height, int width, int newHeight, int newWidth) {
    float[] out = new float[newHeight * newWidth];
    double scaleY = (double) height / newHeight;
    double scaleX = (double) width / newWidth;
    for (int y = 0; y < newHeight; y++) {
      double top = y * scaleY;
      double bottom = (y + 1) * scaleY;
      for (int x = 0; x < newWidth; x++) {
        double left = x * scaleX;
        double right = (x + 1) * scaleX;
        double sum = 0;
        double weight = 0;
        for (int sy = (int) top; sy < Math.min(height, (int) Math.ceil(bottom)); sy++) {
          double wy = Math.min(sy + 1, bottom) - Math.max(sy, top);
          for (int sx = (int) left; sx < Math.min(width, (int) Math.ceil(right)); sx++) {
            double w = wy * (Math.min(sx + 1, right) - Math.max(sx, left));
            sum += source[sy * width + sx] * w;
            weight += w;
          }
        }
        out[y * newWidth + x] = (float) (sum / weight);
      }
    }
    return out;
  }

  private static float[] concat(float[][] planes, int size) {
    if (planes.length == 1) {
      return planes[0];
    }
    float[] out = new float[planes.length * size];
    for (int c = 0; c < planes.length; c++) {
      System.arraycopy(planes[c], 0, out, c * size, size);
    }
    return out;
  }

  /** The per-sample shape {@code [channels, height, width]} of an image of native size {@code height x width}. */
  long[] shape(int height, int width) {
    return new long[] {channels.count, resize.map(Size::height).orElse(height), resize.map(Size::width).orElse(width)};
  }
}
