package org.medfed.nodeagent.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small reader for single-file NIfTI-1 and NIfTI-2 volumes ({@code .nii}, {@code .nii.gz}),
 * written here because no maintained Java reader is on Maven Central (niftijio and niftilib's
 * niftijlib are unreleased or unmaintained; zorbage-nifti brings its own data model).
 *
 * <p>What it does, per the NIfTI-1/2 headers ({@code nifti1.h}, {@code nifti2.h}):
 * <ul>
 *   <li>either byte order, recognised by {@code sizeof_hdr} (348 or 540) read both ways;
 *   <li>datatypes uint8, int16, int32, float32 and float64; any other is refused by name;
 *   <li>{@code scl_slope}/{@code scl_inter} applied (a slope of 0 means "not scaled", per the spec);
 *   <li>a 4D file (several volumes) is refused unless the declaration picks one volume; 5D and up
 *       with more than one entry along the extra axes is refused;
 *   <li>orientation: the voxel-to-world matrix comes from the sform if {@code sform_code > 0}, else
 *       the qform if {@code qform_code > 0}; the voxel axes are then permuted and flipped so that
 *       the array runs along RAS+ (x towards Right, y Anterior, z Superior). An oblique matrix is
 *       brought to its nearest axes, with a logged note: the small rotation is not resampled. With
 *       neither code set (an Analyze-style file) the axes are kept as stored, with a logged warning.
 * </ul>
 * Two-file {@code .hdr}/{@code .img} pairs and NIfTI extensions' contents are not read.
 */
final class NiftiVolumes {
  private static final Logger log = LoggerFactory.getLogger(NiftiVolumes.class);
  private static final Map<Integer, String> UNSUPPORTED = Map.ofEntries(Map.entry(1, "binary (1 bit)"),
      Map.entry(32, "complex64"), Map.entry(128, "rgb24"), Map.entry(256, "int8"), Map.entry(512, "uint16"),
      Map.entry(768, "uint32"), Map.entry(1024, "int64"), Map.entry(1280, "uint64"), Map.entry(1536, "float128"),
      Map.entry(1792, "complex128"), Map.entry(2048, "complex256"), Map.entry(2304, "rgba32"));

  private NiftiVolumes() {}

  /**
   * One volume in RAS+ order: {@code values[(s * anterior + a) * right + r]}, so as a C-order array
   * its shape is {@code [depth (S), height (A), width (R)]}; {@code spacing} is its voxel size in mm.
   */
  record Volume(float[] values, int depth, int height, int width, VolumePreprocessing.Spacing spacing) {}

  /**
   * Reads one volume of a NIfTI file.
   *
   * @param volumeIndex for a 4D file, the 0-based volume to take; empty refuses 4D files
   * @throws DataLoadException naming the file and what is wrong with it
   */
  static Volume read(Path file, OptionalInt volumeIndex) {
    ByteBuffer bytes = ByteBuffer.wrap(readAll(file));
    Header header = Header.parse(file, bytes);
    int volume = chooseVolume(file, header, volumeIndex);
    long voxels = (long) header.dims[0] * header.dims[1] * header.dims[2];
    long start = header.voxOffset + volume * voxels * header.bytesPerVoxel;
    long end = start + voxels * header.bytesPerVoxel;
    if (header.voxOffset < header.headerSize || end > bytes.capacity()) {
      throw new DataLoadException(file + ": truncated or inconsistent: the header promises " + voxels + " voxels of "
          + header.bytesPerVoxel + " byte(s) from byte " + header.voxOffset + " (volume " + volume + "), ending at"
          + " byte " + end + ", but the " + (file.toString().endsWith(".gz") ? "decompressed " : "") + "file has "
          + bytes.capacity() + " bytes; re-export it");
    }
    float[] stored = values(bytes, (int) start, (int) voxels, header);
    return reorient(file, header, stored);
  }

  private static byte[] readAll(Path file) {
    try (InputStream raw = Files.newInputStream(file)) {
      InputStream in = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz")
          ? new GZIPInputStream(raw) : raw;
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toByteArray();
    } catch (IOException e) {
      // A cut-off .nii.gz ends its stream early: say so, with the file.
      throw new DataLoadException(file + ": cannot be read (" + e.getMessage() + "); is it a complete .nii or"
          + " .nii.gz file?", e);
    }
  }

  private static int chooseVolume(Path file, Header header, OptionalInt volumeIndex) {
    for (int axis = 4; axis < header.dims.length; axis++) {
      if (header.dims[axis] > 1) {
        throw new DataLoadException(file + ": has " + header.dims.length + " dimensions with " + header.dims[axis]
            + " entries along dimension " + (axis + 1) + "; only 3D volumes (or one volume of a 4D series) are read");
      }
    }
    int volumes = header.dims.length > 3 ? header.dims[3] : 1;
    if (volumeIndex.isEmpty()) {
      if (volumes > 1) {
        throw new DataLoadException(file + ": is 4D with " + volumes + " volumes; declare which one to use with"
            + " 'volume: INDEX' (0-based) in the dataset, or export a single 3D volume");
      }
      return 0;
    }
    int index = volumeIndex.getAsInt();
    if (index < 0 || index >= volumes) {
      throw new DataLoadException(file + ": has " + volumes + " volume(s) but the declaration asks for volume "
          + index + " (0-based)");
    }
    return index;
  }

  private static float[] values(ByteBuffer bytes, int start, int count, Header header) {
    float[] out = new float[count];
    bytes.order(header.order);
    // Per the spec a slope of 0 (or a non-finite one) means the stored values are used as they are.
    boolean scaled = header.slope != 0 && Double.isFinite(header.slope) && Double.isFinite(header.intercept);
    for (int i = 0; i < count; i++) {
      int at = start + i * header.bytesPerVoxel;
      double v = switch (header.datatype) {
        case 2 -> bytes.get(at) & 0xff;
        case 4 -> bytes.getShort(at);
        case 8 -> bytes.getInt(at);
        case 16 -> bytes.getFloat(at);
        case 64 -> bytes.getDouble(at);
        default -> throw new IllegalStateException("datatype " + header.datatype + " passed the header check");
      };
      out[i] = (float) (scaled ? v * header.slope + header.intercept : v);
    }
    return out;
  }

  /** Checks that every voxel axis has a direction, then permutes and flips the stored axes to R, A, S. */
  private static Volume reorient(Path file, Header header, float[] stored) {
    double[][] m = header.orientation(file);
    for (int axis = 0; axis < 3; axis++) {
      if (m[0][axis] == 0 && m[1][axis] == 0 && m[2][axis] == 0 || !Double.isFinite(m[0][axis] + m[1][axis]
          + m[2][axis])) {
        throw new DataLoadException(file + ": its " + (header.sformCode > 0 ? "sform" : "qform") + " gives voxel"
            + " axis " + (axis + 1) + " no direction; fix the file's orientation (e.g. with fslorient)");
      }
    }
    return RasOrientation.reorient(file, m, new int[] {header.dims[0], header.dims[1], header.dims[2]}, stored);
  }

  /** The header fields the reader uses, from either NIfTI version and either byte order. */
  private static final class Header {
    int headerSize;
    ByteOrder order;
    int datatype;
    int bytesPerVoxel;
    int[] dims;
    double[] pixdim = new double[8];
    long voxOffset;
    double slope;
    double intercept;
    int qformCode;
    int sformCode;
    double[] quatern = new double[6];
    double[][] srow = new double[3][4];

    static Header parse(Path file, ByteBuffer bytes) {
      if (bytes.capacity() < 348) {
        throw new DataLoadException(file + ": " + bytes.capacity() + " bytes is too short for a NIfTI header (348"
            + " bytes for NIfTI-1, 540 for NIfTI-2); the file is truncated or not NIfTI");
      }
      Header h = new Header();
      int little = bytes.order(ByteOrder.LITTLE_ENDIAN).getInt(0);
      int big = bytes.order(ByteOrder.BIG_ENDIAN).getInt(0);
      if (little == 348 || little == 540) {
        h.order = ByteOrder.LITTLE_ENDIAN;
        h.headerSize = little;
      } else if (big == 348 || big == 540) {
        h.order = ByteOrder.BIG_ENDIAN;
        h.headerSize = big;
      } else {
        throw new DataLoadException(file + ": not a NIfTI file (sizeof_hdr is " + little + ", expected 348 for"
            + " NIfTI-1 or 540 for NIfTI-2, in either byte order)");
      }
      if (bytes.capacity() < h.headerSize) {
        throw new DataLoadException(file + ": truncated: " + bytes.capacity() + " bytes, less than its "
            + h.headerSize + "-byte header");
      }
      bytes.order(h.order);
      long[] dim = new long[8];
      if (h.headerSize == 348) {
        checkMagic(file, bytes, 344, "n+1", "ni1");
        for (int i = 0; i < 8; i++) {
          dim[i] = bytes.getShort(40 + 2 * i);
          h.pixdim[i] = bytes.getFloat(76 + 4 * i);
        }
        h.datatype = bytes.getShort(70);
        h.voxOffset = (long) bytes.getFloat(108);
        h.slope = bytes.getFloat(112);
        h.intercept = bytes.getFloat(116);
        h.qformCode = bytes.getShort(252);
        h.sformCode = bytes.getShort(254);
        for (int i = 0; i < 6; i++) {
          h.quatern[i] = bytes.getFloat(256 + 4 * i);
        }
        for (int r = 0; r < 3; r++) {
          for (int c = 0; c < 4; c++) {
            h.srow[r][c] = bytes.getFloat(280 + 16 * r + 4 * c);
          }
        }
      } else {
        checkMagic(file, bytes, 4, "n+2", "ni2");
        h.datatype = bytes.getShort(12);
        for (int i = 0; i < 8; i++) {
          dim[i] = bytes.getLong(16 + 8 * i);
          h.pixdim[i] = bytes.getDouble(104 + 8 * i);
        }
        h.voxOffset = bytes.getLong(168);
        h.slope = bytes.getDouble(176);
        h.intercept = bytes.getDouble(184);
        h.qformCode = bytes.getInt(344);
        h.sformCode = bytes.getInt(348);
        for (int i = 0; i < 6; i++) {
          h.quatern[i] = bytes.getDouble(352 + 8 * i);
        }
        for (int r = 0; r < 3; r++) {
          for (int c = 0; c < 4; c++) {
            h.srow[r][c] = bytes.getDouble(400 + 32 * r + 8 * c);
          }
        }
      }
      h.bytesPerVoxel = switch (h.datatype) {
        case 2 -> 1;
        case 4 -> 2;
        case 8, 16 -> 4;
        case 64 -> 8;
        default -> throw new DataLoadException(file + ": datatype " + h.datatype + " ("
            + UNSUPPORTED.getOrDefault(h.datatype, "unknown") + ") is not supported; convert it to uint8, int16,"
            + " int32, float32 or float64");
      };
      if (dim[0] < 3 || dim[0] > 7) {
        throw new DataLoadException(file + ": dim[0] is " + dim[0] + "; a volume needs 3 to 7 dimensions");
      }
      h.dims = new int[(int) dim[0]];
      for (int i = 0; i < h.dims.length; i++) {
        if (dim[i + 1] < 1 || dim[i + 1] > Integer.MAX_VALUE) {
          throw new DataLoadException(file + ": dimension " + (i + 1) + " has size " + dim[i + 1]);
        }
        h.dims[i] = (int) dim[i + 1];
      }
      return h;
    }

    private static void checkMagic(Path file, ByteBuffer bytes, int at, String single, String pair) {
      String magic = new String(new byte[] {bytes.get(at), bytes.get(at + 1), bytes.get(at + 2)},
          java.nio.charset.StandardCharsets.US_ASCII);
      if (magic.equals(pair)) {
        throw new DataLoadException(file + ": is the header of a two-file (.hdr/.img) pair; convert it to a"
            + " single .nii file");
      }
      if (!magic.equals(single)) {
        throw new DataLoadException(file + ": NIfTI magic is '" + magic + "', expected '" + single + "'");
      }
    }

    /** The 3x3 voxel-to-world matrix: the sform's, else the qform's, else the identity (with a warning). */
    double[][] orientation(Path file) {
      if (sformCode > 0) {
        return new double[][] {
            {srow[0][0], srow[0][1], srow[0][2]}, {srow[1][0], srow[1][1], srow[1][2]},
            {srow[2][0], srow[2][1], srow[2][2]}};
      }
      if (qformCode > 0) {
        return quaternionMatrix();
      }
      log.warn("{}: neither sform nor qform is set (sform_code = qform_code = 0), so its orientation is unknown;"
          + " the axes are kept as stored", file);
      return new double[][] {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    }

    /** The qform's rotation (nifti1.h, "METHOD 2"), columns scaled by the voxel size and qfac. */
    private double[][] quaternionMatrix() {
      double b = quatern[0];
      double c = quatern[1];
      double d = quatern[2];
      double a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
      double qfac = pixdim[0] < 0 ? -1 : 1;
      double[][] r = {
          {a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)},
          {2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)},
          {2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b}};
      double[] scale = {positive(pixdim[1]), positive(pixdim[2]), positive(pixdim[3]) * qfac};
      for (int row = 0; row < 3; row++) {
        for (int col = 0; col < 3; col++) {
          r[row][col] *= scale[col];
        }
      }
      return r;
    }

    private static double positive(double size) {
      return size > 0 ? size : 1;
    }
  }
}
