package org.medfed.examples.synthetic;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a single-file NIfTI-1 volume ({@code .nii}, or {@code .nii.gz} gzipped) from the field
 * offsets of {@code nifti1.h}: int16 voxels with {@code scl_slope}/{@code scl_inter}, and the
 * voxel-to-world affine as the sform ({@code sform_code} 1, scanner coordinates, RAS mm), as
 * dcm2niix writes a converted CT.
 */
final class NiftiWriter {
  private static final int HEADER = 348;
  /** The header, 4 bytes of empty extension flag, then the voxels. */
  private static final int VOX_OFFSET = 352;
  private static final short INT16 = 4;

  private NiftiWriter() {}

  /**
   * @param dims the sizes along voxel axes i, j, k
   * @param affine srow_x, srow_y, srow_z: world (RAS) = affine · (i, j, k, 1)
   * @param stored voxels with i fastest: {@code stored[(k * dims[1] + j) * dims[0] + i]}
   */
  static void write(Path file, int[] dims, double[][] affine, short[] stored, double slope, double intercept)
      throws IOException {
    if (stored.length != dims[0] * dims[1] * dims[2]) {
      throw new IllegalArgumentException(stored.length + " voxels do not fill " + dims[0] + "x" + dims[1] + "x"
          + dims[2]);
    }
    ByteBuffer b = ByteBuffer.allocate(VOX_OFFSET + 2 * stored.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, HEADER);
    b.putShort(40, (short) 3);
    for (int i = 0; i < 3; i++) {
      b.putShort(42 + 2 * i, (short) dims[i]);
      // pixdim[1..3]: the voxel size, the length of each affine column.
      b.putFloat(80 + 4 * i, (float) Math.sqrt(affine[0][i] * affine[0][i] + affine[1][i] * affine[1][i]
          + affine[2][i] * affine[2][i]));
    }
    b.putShort(70, INT16);
    b.putShort(72, (short) 16);
    b.putFloat(76, 1f);
    b.putFloat(108, VOX_OFFSET);
    b.putFloat(112, (float) slope);
    b.putFloat(116, (float) intercept);
    // xyzt_units: millimetres.
    b.put(123, (byte) 2);
    b.putShort(254, (short) 1);
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) {
        b.putFloat(280 + 16 * r + 4 * c, (float) affine[r][c]);
      }
    }
    b.put(344, "n+1\0".getBytes(StandardCharsets.US_ASCII));
    b.position(VOX_OFFSET);
    for (short v : stored) {
      b.putShort(v);
    }
    try (OutputStream out = file.toString().endsWith(".gz")
        ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
      out.write(b.array());
    }
  }
}
