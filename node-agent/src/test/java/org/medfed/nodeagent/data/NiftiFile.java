package org.medfed.nodeagent.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * Writes test NIfTI files byte by byte from the field offsets of {@code nifti1.h} and
 * {@code nifti2.h}, so the reader is checked against the layout, not against itself.
 */
final class NiftiFile {
  int version = 1;
  ByteOrder order = ByteOrder.LITTLE_ENDIAN;
  int datatype = 16;
  int[] dims = {2, 2, 2};
  double slope;
  double intercept;
  int sformCode = 1;
  /** srow_x, srow_y, srow_z; the identity (RAS+, 1 mm) unless a test sets it. */
  double[][] srow = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}};
  int qformCode;
  double[] quatern = new double[3];
  double qfac = 1;
  /** Voxel values in storage order (i fastest), cast to the datatype. */
  double[] values = new double[8];

  Path write(Path file) throws IOException {
    byte[] bytes = version == 1 ? nifti1() : nifti2();
    try (OutputStream out = file.toString().endsWith(".gz")
        ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
      out.write(bytes);
    }
    return file;
  }

  private byte[] nifti1() {
    ByteBuffer b = ByteBuffer.allocate(352 + data().length).order(order);
    b.putInt(0, 348);
    b.putShort(40, (short) dims.length);
    for (int i = 0; i < dims.length; i++) {
      b.putShort(42 + 2 * i, (short) dims[i]);
    }
    b.putShort(70, (short) datatype);
    b.putShort(72, (short) (bytesPerVoxel() * 8));
    b.putFloat(76, (float) qfac);
    for (int i = 1; i <= 3; i++) {
      b.putFloat(76 + 4 * i, 1f);
    }
    b.putFloat(108, 352f);
    b.putFloat(112, (float) slope);
    b.putFloat(116, (float) intercept);
    b.putShort(252, (short) qformCode);
    b.putShort(254, (short) sformCode);
    for (int i = 0; i < 3; i++) {
      b.putFloat(256 + 4 * i, (float) quatern[i]);
    }
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) {
        b.putFloat(280 + 16 * r + 4 * c, (float) srow[r][c]);
      }
    }
    b.put(344, "n+1\0".getBytes(StandardCharsets.US_ASCII));
    b.position(352);
    b.put(data());
    return b.array();
  }

  private byte[] nifti2() {
    ByteBuffer b = ByteBuffer.allocate(544 + data().length).order(order);
    b.putInt(0, 540);
    b.put(4, "n+2\0\r\n\032\n".getBytes(StandardCharsets.US_ASCII));
    b.putShort(12, (short) datatype);
    b.putShort(14, (short) (bytesPerVoxel() * 8));
    b.putLong(16, dims.length);
    for (int i = 0; i < dims.length; i++) {
      b.putLong(24 + 8 * i, dims[i]);
    }
    b.putDouble(104, qfac);
    for (int i = 1; i <= 3; i++) {
      b.putDouble(104 + 8 * i, 1);
    }
    b.putLong(168, 544);
    b.putDouble(176, slope);
    b.putDouble(184, intercept);
    b.putInt(344, qformCode);
    b.putInt(348, sformCode);
    for (int i = 0; i < 3; i++) {
      b.putDouble(352 + 8 * i, quatern[i]);
    }
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) {
        b.putDouble(400 + 32 * r + 8 * c, srow[r][c]);
      }
    }
    b.position(544);
    b.put(data());
    return b.array();
  }

  private int bytesPerVoxel() {
    return switch (datatype) {
      case 2 -> 1;
      case 4, 512 -> 2;
      case 8, 16 -> 4;
      default -> 8;
    };
  }

  private byte[] data() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer one = ByteBuffer.allocate(8).order(order);
    for (double v : values) {
      one.clear();
      switch (datatype) {
        case 2 -> one.put((byte) v);
        case 4, 512 -> one.putShort((short) v);
        case 8 -> one.putInt((int) v);
        case 16 -> one.putFloat((float) v);
        default -> one.putDouble(v);
      }
      out.write(one.array(), 0, one.position());
    }
    return out.toByteArray();
  }
}
