package org.medfed.nodeagent.data;

import java.nio.file.Path;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a voxel grid to RAS+ (x towards Right, y Anterior, z Superior) by permuting and flipping its
 * axes. NIfTI files and DICOM series both pass through here, so a series and its NIfTI conversion
 * give the same tensor. An oblique grid is brought to its nearest axes, with a logged note: the
 * small rotation is not resampled.
 */
final class RasOrientation {
  private static final Logger log = LoggerFactory.getLogger(RasOrientation.class);
  /** How far (as a share of a column's length) a voxel axis may lean off a world axis before it is called oblique. */
  private static final double OBLIQUE_TOLERANCE = 1e-3;

  private RasOrientation() {}

  /**
   * The stored voxels in RAS+ order.
   *
   * @param source the file or folder the voxels came from, for the log
   * @param voxelToRas the 3x3 matrix whose column {@code i} is voxel axis {@code i}'s step in RAS world
   *     coordinates; every column must be non-zero and finite
   * @param dims the stored sizes along voxel axes i, j, k
   * @param stored the voxels with i fastest: {@code stored[(k * dims[1] + j) * dims[0] + i]}
   */
  static NiftiVolumes.Volume reorient(Path source, double[][] voxelToRas, int[] dims, float[] stored) {
    double[][] m = voxelToRas;
    int[] worldOf = nearestAxes(m);
    int[] sourceOf = new int[3];
    boolean[] flip = new boolean[3];
    double worstLean = 0;
    for (int axis = 0; axis < 3; axis++) {
      int world = worldOf[axis];
      sourceOf[world] = axis;
      flip[world] = m[world][axis] < 0;
      worstLean = Math.max(worstLean, Math.acos(Math.min(1, Math.abs(m[world][axis]) / length(m, axis))));
    }
    if (worstLean > OBLIQUE_TOLERANCE) {
      log.info("{}: oblique orientation (up to {} degrees off the nearest axes); reoriented to the nearest axes"
          + " without resampling the rotation", source, String.format(Locale.ROOT, "%.1f", Math.toDegrees(worstLean)));
    }
    int[] out = {dims[sourceOf[0]], dims[sourceOf[1]], dims[sourceOf[2]]};
    float[] values = new float[stored.length];
    int[] from = new int[3];
    for (int s = 0; s < out[2]; s++) {
      for (int a = 0; a < out[1]; a++) {
        for (int r = 0; r < out[0]; r++) {
          int[] target = {r, a, s};
          for (int w = 0; w < 3; w++) {
            from[sourceOf[w]] = flip[w] ? out[w] - 1 - target[w] : target[w];
          }
          values[(s * out[1] + a) * out[0] + r] = stored[(from[2] * dims[1] + from[1]) * dims[0] + from[0]];
        }
      }
    }
    // A voxel axis's step length is its spacing, whichever world axis it now runs along.
    return new NiftiVolumes.Volume(values, out[2], out[1], out[0], new VolumePreprocessing.Spacing(
        length(m, sourceOf[2]), length(m, sourceOf[1]), length(m, sourceOf[0])));
  }

  /**
   * For each voxel axis (a column of the 3x3 matrix), the world axis it runs along: the assignment
   * of the six that keeps the most of the columns' directions, so two voxel axes never share one.
   */
  private static int[] nearestAxes(double[][] m) {
    int[][] permutations = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    int[] best = permutations[0];
    double bestScore = -1;
    for (int[] p : permutations) {
      double score = 0;
      for (int axis = 0; axis < 3; axis++) {
        score += Math.abs(m[p[axis]][axis]) / length(m, axis);
      }
      if (score > bestScore) {
        bestScore = score;
        best = p;
      }
    }
    return best;
  }

  private static double length(double[][] m, int column) {
    return Math.sqrt(m[0][column] * m[0][column] + m[1][column] * m[1][column] + m[2][column] * m[2][column]);
  }
}
