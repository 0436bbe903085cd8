package org.medfed.examples.synthetic;

import java.util.List;
import java.util.Random;

/**
 * Small grayscale "scans" whose class is a lesion pattern on a textured organ background:
 * normal tissue, one round nodule, several small foci, or one elongated irregular lesion.
 * Lesion size, position and contrast vary, so the classes overlap enough that a few hundred
 * images do not make a good classifier.
 */
public final class ScanGenerator {
  public static final List<String> CLASSES = List.of("normal", "nodule", "multifocal", "irregular");
  private final int size;

  public ScanGenerator(int size) {
    this.size = size;
  }

  public int size() {
    return size;
  }

  /** One image with pixel values in [0, 1], row-major. */
  public float[] image(int label, ScannerProfile scanner, Random random) {
    double[] pixels = background(random);
    switch (label) {
      case 0 -> { }
      case 1 -> {
        double r = 3.5 + 1.5 * random.nextDouble();
        blob(pixels, centre(random, r), centre(random, r), r, r, 0, contrast(random));
      }
      case 2 -> {
        int foci = 4 + random.nextInt(3);
        for (int i = 0; i < foci; i++) {
          double r = 1.0 + 0.8 * random.nextDouble();
          blob(pixels, centre(random, r), centre(random, r), r, r, 0, contrast(random));
        }
      }
      case 3 -> {
        double major = 5 + 3 * random.nextDouble();
        double minor = 1.3 + 0.8 * random.nextDouble();
        double angle = Math.PI * random.nextDouble();
        double cx = centre(random, major * 0.6);
        double cy = centre(random, major * 0.6);
        blob(pixels, cx, cy, major, minor, angle, contrast(random));
        // A second, offset lobe makes the lesion irregular rather than a clean ellipse.
        blob(pixels, cx + 0.5 * major * Math.cos(angle + 0.8), cy + 0.5 * major * Math.sin(angle + 0.8),
            major * 0.4, minor * 1.2, angle + 1.2, contrast(random) * 0.8);
      }
      default -> throw new IllegalArgumentException("label " + label + " is outside 0.." + (CLASSES.size() - 1));
    }
    return scan(pixels, scanner, random);
  }

  private double centre(Random random, double margin) {
    double m = Math.min(size / 2.0 - 1, margin + 4);
    return m + (size - 2 * m) * random.nextDouble();
  }

  private static double contrast(Random random) {
    return 0.6 + 0.3 * random.nextDouble();
  }

  /** Organ-like background: a bright ellipse with smooth low-frequency texture. */
  private double[] background(Random random) {
    double[] pixels = new double[size * size];
    double ox = size / 2.0 + random.nextGaussian();
    double oy = size / 2.0 + random.nextGaussian();
    double ax = size * (0.38 + 0.06 * random.nextDouble());
    double ay = size * (0.30 + 0.08 * random.nextDouble());
    double[] fx = {random.nextDouble() * 0.5, random.nextDouble() * 0.5, random.nextDouble() * 0.9};
    double[] fy = {random.nextDouble() * 0.5, random.nextDouble() * 0.5, random.nextDouble() * 0.9};
    double[] phase = {random.nextDouble() * 6.28, random.nextDouble() * 6.28, random.nextDouble() * 6.28};
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        double inside = Math.pow((x - ox) / ax, 2) + Math.pow((y - oy) / ay, 2);
        double organ = 0.25 + 0.2 / (1 + Math.exp(8 * (inside - 1)));
        double texture = 0;
        for (int k = 0; k < 3; k++) {
          texture += 0.04 * Math.sin(fx[k] * x + fy[k] * y + phase[k]);
        }
        pixels[y * size + x] = organ + texture;
      }
    }
    return pixels;
  }

  private void blob(double[] pixels, double cx, double cy, double rx, double ry, double angle, double amplitude) {
    double cos = Math.cos(angle);
    double sin = Math.sin(angle);
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        double dx = x - cx;
        double dy = y - cy;
        double u = (dx * cos + dy * sin) / rx;
        double v = (-dx * sin + dy * cos) / ry;
        pixels[y * size + x] += amplitude * Math.exp(-1.5 * (u * u + v * v));
      }
    }
  }

  private float[] scan(double[] pixels, ScannerProfile scanner, Random random) {
    for (int pass = 0; pass < scanner.blurPasses(); pass++) {
      pixels = boxBlur(pixels);
    }
    float[] out = new float[pixels.length];
    for (int i = 0; i < pixels.length; i++) {
      double v = Math.max(0, Math.min(1, pixels[i]));
      v = Math.pow(v, scanner.gamma()) * scanner.gain() + scanner.offset() + scanner.noise() * random.nextGaussian();
      out[i] = (float) Math.max(0, Math.min(1, v));
    }
    return out;
  }

  private double[] boxBlur(double[] pixels) {
    double[] out = new double[pixels.length];
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        double sum = 0;
        int n = 0;
        for (int dy = -1; dy <= 1; dy++) {
          for (int dx = -1; dx <= 1; dx++) {
            int xx = x + dx;
            int yy = y + dy;
            if (xx >= 0 && yy >= 0 && xx < size && yy < size) {
              sum += pixels[yy * size + xx];
              n++;
            }
          }
        }
        out[y * size + x] = sum / n;
      }
    }
    return out;
  }
}
