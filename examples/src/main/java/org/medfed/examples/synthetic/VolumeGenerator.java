package org.medfed.examples.synthetic;

import java.util.List;
import java.util.Random;

/**
 * Small synthetic CT volumes, the 3D sibling of {@link ScanGenerator}: an organ (a textured
 * ellipsoid) that is normal, holds a hyperdense (bright, as a bleed) or a hypodense (dark, as a cyst)
 * blob of random position and size. A hospital's {@link ScannerProfile} distorts intensities and
 * adds noise, and the result is in CT-like modality units (about -100 to 900), which the writers
 * store as 16-bit values with a rescale slope and intercept.
 */
public final class VolumeGenerator {
  public static final List<String> CLASSES = List.of("normal", "hyperdense", "hypodense");
  /** Modality value = MODALITY_SCALE · intensity + MODALITY_OFFSET, intensity in [0, 1]. */
  private static final double MODALITY_SCALE = 1000;
  private static final double MODALITY_OFFSET = -100;
  private final int size;

  public VolumeGenerator(int size) {
    if (size < 8) {
      throw new IllegalArgumentException("volumes need at least 8 voxels a side for a lesion inside an organ, got "
          + size);
    }
    this.size = size;
  }

  public int size() {
    return size;
  }

  /** One cubic volume in RAS+ order, {@code values[(s * size + a) * size + r]}, in modality units. */
  public float[] volume(int label, ScannerProfile scanner, Random random) {
    double[] voxels = organ(random);
    double sign = switch (label) {
      case 0 -> 0;
      case 1 -> 1;
      case 2 -> -0.6;
      default -> throw new IllegalArgumentException("label " + label + " is outside 0.." + (CLASSES.size() - 1));
    };
    if (sign != 0) {
      double radius = 1.5 + 1.0 * random.nextDouble();
      double[] centre = new double[3];
      for (int axis = 0; axis < 3; axis++) {
        // Inside the organ, clear of its rim.
        centre[axis] = size / 2.0 + (random.nextDouble() - 0.5) * size * 0.35;
      }
      blob(voxels, centre, radius, sign * (0.45 + 0.25 * random.nextDouble()));
    }
    for (int pass = 0; pass < scanner.blurPasses(); pass++) {
      voxels = boxBlur(voxels);
    }
    float[] out = new float[voxels.length];
    for (int i = 0; i < voxels.length; i++) {
      double v = Math.max(0, Math.min(1, voxels[i]));
      v = Math.pow(v, scanner.gamma()) * scanner.gain() + scanner.offset() + scanner.noise() * random.nextGaussian();
      out[i] = (float) (MODALITY_SCALE * Math.max(0, Math.min(1, v)) + MODALITY_OFFSET);
    }
    return out;
  }

  /** An ellipsoid of soft tissue with smooth low-frequency texture on a darker surround. */
  private double[] organ(Random random) {
    double[] voxels = new double[size * size * size];
    double[] origin = new double[3];
    double[] semiAxes = new double[3];
    for (int axis = 0; axis < 3; axis++) {
      origin[axis] = size / 2.0 + 0.5 * random.nextGaussian();
      semiAxes[axis] = size * (0.36 + 0.06 * random.nextDouble());
    }
    double[][] frequency = new double[3][3];
    double[] phase = new double[3];
    for (int k = 0; k < 3; k++) {
      for (int axis = 0; axis < 3; axis++) {
        frequency[k][axis] = random.nextDouble() * 0.6;
      }
      phase[k] = random.nextDouble() * 2 * Math.PI;
    }
    for (int s = 0; s < size; s++) {
      for (int a = 0; a < size; a++) {
        for (int r = 0; r < size; r++) {
          int[] at = {r, a, s};
          double inside = 0;
          double texture = 0;
          for (int axis = 0; axis < 3; axis++) {
            inside += Math.pow((at[axis] - origin[axis]) / semiAxes[axis], 2);
          }
          for (int k = 0; k < 3; k++) {
            texture += 0.03 * Math.sin(frequency[k][0] * r + frequency[k][1] * a + frequency[k][2] * s + phase[k]);
          }
          voxels[(s * size + a) * size + r] = 0.2 + 0.25 / (1 + Math.exp(8 * (inside - 1))) + texture;
        }
      }
    }
    return voxels;
  }

  /** A Gaussian blob; {@code centre} is (r, a, s). */
  private void blob(double[] voxels, double[] centre, double radius, double amplitude) {
    for (int s = 0; s < size; s++) {
      for (int a = 0; a < size; a++) {
        for (int r = 0; r < size; r++) {
          double d2 = Math.pow(r - centre[0], 2) + Math.pow(a - centre[1], 2) + Math.pow(s - centre[2], 2);
          voxels[(s * size + a) * size + r] += amplitude * Math.exp(-1.5 * d2 / (radius * radius));
        }
      }
    }
  }

  private double[] boxBlur(double[] voxels) {
    double[] out = new double[voxels.length];
    for (int s = 0; s < size; s++) {
      for (int a = 0; a < size; a++) {
        for (int r = 0; r < size; r++) {
          double sum = 0;
          int n = 0;
          for (int ds = -1; ds <= 1; ds++) {
            for (int da = -1; da <= 1; da++) {
              for (int dr = -1; dr <= 1; dr++) {
                int ss = s + ds;
                int aa = a + da;
                int rr = r + dr;
                if (ss >= 0 && aa >= 0 && rr >= 0 && ss < size && aa < size && rr < size) {
                  sum += voxels[(ss * size + aa) * size + rr];
                  n++;
                }
              }
            }
          }
          out[(s * size + a) * size + r] = sum / n;
        }
      }
    }
    return out;
  }
}
