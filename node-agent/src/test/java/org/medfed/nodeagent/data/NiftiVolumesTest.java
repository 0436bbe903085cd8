package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NiftiVolumesTest {
  @TempDir Path dir;

  @ParameterizedTest(name = "NIfTI-{0}, datatype {1}, {2}")
  @CsvSource({
      "1, 2, LITTLE", "1, 4, LITTLE", "1, 8, LITTLE", "1, 16, LITTLE", "1, 64, LITTLE",
      "1, 2, BIG", "1, 4, BIG", "1, 8, BIG", "1, 16, BIG", "1, 64, BIG",
      "2, 4, LITTLE", "2, 16, BIG", "2, 64, LITTLE"})
  void read_eachDatatypeVersionAndByteOrder_givesTheStoredValues(int version, int datatype, String order)
      throws Exception {
    NiftiFile nifti = new NiftiFile();
    nifti.version = version;
    nifti.datatype = datatype;
    nifti.order = order.equals("BIG") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    nifti.values = new double[] {0, 1, 2, 3, 4, 5, 6, 250};

    NiftiVolumes.Volume volume = NiftiVolumes.read(nifti.write(dir.resolve("v.nii")), OptionalInt.empty());

    assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5, 6, 250}, volume.values());
    assertEquals(2, volume.depth());
  }

  @Test
  void read_gzipped_isReadAsThePlainFile() throws Exception {
    NiftiFile nifti = new NiftiFile();
    nifti.values = new double[] {8, 7, 6, 5, 4, 3, 2, 1};

    float[] gz = NiftiVolumes.read(nifti.write(dir.resolve("v.nii.gz")), OptionalInt.empty()).values();

    assertArrayEquals(new float[] {8, 7, 6, 5, 4, 3, 2, 1}, gz);
  }

  @Test
  void read_slopeAndIntercept_areApplied_andSlopeZeroMeansUnscaled() throws Exception {
    NiftiFile nifti = new NiftiFile();
    nifti.datatype = 4;
    nifti.values = new double[] {0, 1, 2, 3, 4, 5, 6, -7};
    nifti.slope = 2;
    nifti.intercept = -1024;

    float[] scaled = NiftiVolumes.read(nifti.write(dir.resolve("scaled.nii")), OptionalInt.empty()).values();
    nifti.slope = 0;
    float[] unscaled = NiftiVolumes.read(nifti.write(dir.resolve("raw.nii")), OptionalInt.empty()).values();

    assertArrayEquals(new float[] {-1024, -1022, -1020, -1018, -1016, -1014, -1012, -1038}, scaled);
    assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5, 6, -7}, unscaled);
  }

  @Test
  void read_sformWithAFlippedAndSwappedAxis_isBroughtToRas() throws Exception {
    // Voxel axis i runs towards Left, j towards Superior, k towards Anterior.
    NiftiFile nifti = new NiftiFile();
    nifti.dims = new int[] {2, 3, 4};
    nifti.srow = new double[][] {{-1, 0, 0, 10}, {0, 0, 1.5, -20}, {0, 2, 0, 5}};
    nifti.values = new double[24];
    for (int k = 0; k < 4; k++) {
      for (int j = 0; j < 3; j++) {
        for (int i = 0; i < 2; i++) {
          nifti.values[(k * 3 + j) * 2 + i] = i + 10 * j + 100 * k;
        }
      }
    }

    NiftiVolumes.Volume volume = NiftiVolumes.read(nifti.write(dir.resolve("lsa.nii")), OptionalInt.empty());

    assertEquals(3, volume.depth(), "S comes from j");
    assertEquals(4, volume.height(), "A comes from k");
    assertEquals(2, volume.width(), "R comes from i, reversed");
    for (int s = 0; s < 3; s++) {
      for (int a = 0; a < 4; a++) {
        for (int r = 0; r < 2; r++) {
          assertEquals((1 - r) + 10 * s + 100 * a, volume.values()[(s * 4 + a) * 2 + r], 0,
              "voxel (r, a, s) = (" + r + ", " + a + ", " + s + ")");
        }
      }
    }
  }

  @Test
  void read_qformOnly_rotatedHalfAboutZ_flipsXAndY() throws Exception {
    NiftiFile nifti = new NiftiFile();
    nifti.sformCode = 0;
    nifti.qformCode = 1;
    nifti.quatern = new double[] {0, 0, 1};
    nifti.values = new double[] {0, 1, 2, 3, 4, 5, 6, 7};

    float[] values = NiftiVolumes.read(nifti.write(dir.resolve("q.nii")), OptionalInt.empty()).values();

    assertArrayEquals(new float[] {3, 2, 1, 0, 7, 6, 5, 4}, values);
  }

  @Test
  void read_obliqueSform_isReorientedToTheNearestAxes() throws Exception {
    NiftiFile nifti = new NiftiFile();
    double tilt = Math.toRadians(10);
    nifti.srow = new double[][] {{Math.cos(tilt), -Math.sin(tilt), 0, 0}, {Math.sin(tilt), Math.cos(tilt), 0, 0},
        {0, 0, -1, 0}};
    nifti.values = new double[] {0, 1, 2, 3, 4, 5, 6, 7};

    float[] values = NiftiVolumes.read(nifti.write(dir.resolve("oblique.nii")), OptionalInt.empty()).values();

    assertArrayEquals(new float[] {4, 5, 6, 7, 0, 1, 2, 3}, values, "only the flipped z axis is undone");
  }

  @Test
  void read_4dWithoutAVolumeIndex_isRefused_andADeclaredVolumeIsRead() throws Exception {
    NiftiFile nifti = new NiftiFile();
    nifti.dims = new int[] {2, 2, 2, 3};
    nifti.values = new double[24];
    Arrays.setAll(nifti.values, i -> i);
    Path file = nifti.write(dir.resolve("series.nii"));

    DataLoadException e = assertThrows(DataLoadException.class, () -> NiftiVolumes.read(file, OptionalInt.empty()));
    float[] second = NiftiVolumes.read(file, OptionalInt.of(1)).values();
    DataLoadException beyond = assertThrows(DataLoadException.class, () -> NiftiVolumes.read(file, OptionalInt.of(3)));

    assertEquals(file + ": is 4D with 3 volumes; declare which one to use with 'volume: INDEX' (0-based) in the"
        + " dataset, or export a single 3D volume", e.getMessage());
    assertArrayEquals(new float[] {8, 9, 10, 11, 12, 13, 14, 15}, second);
    assertEquals(file + ": has 3 volume(s) but the declaration asks for volume 3 (0-based)", beyond.getMessage());
  }

  @Test
  void read_truncatedFile_namesTheFileAndTheSizes() throws Exception {
    NiftiFile nifti = new NiftiFile();
    Path file = nifti.write(dir.resolve("cut.nii"));
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 5));
    Path header = dir.resolve("header.nii");
    Files.write(header, Arrays.copyOf(bytes, 100));
    Path gz = nifti.write(dir.resolve("cut.nii.gz"));
    byte[] zipped = Files.readAllBytes(gz);
    Files.write(gz, Arrays.copyOf(zipped, zipped.length / 2));

    DataLoadException voxels = assertThrows(DataLoadException.class, () -> NiftiVolumes.read(file,
        OptionalInt.empty()));
    DataLoadException shortHeader = assertThrows(DataLoadException.class, () -> NiftiVolumes.read(header,
        OptionalInt.empty()));
    DataLoadException gzip = assertThrows(DataLoadException.class, () -> NiftiVolumes.read(gz, OptionalInt.empty()));

    assertEquals(file + ": truncated or inconsistent: the header promises 8 voxels of 4 byte(s) from byte 352"
        + " (volume 0), ending at byte 384, but the file has 379 bytes; re-export it", voxels.getMessage());
    assertTrue(shortHeader.getMessage().startsWith(header + ": 100 bytes is too short for a NIfTI header"),
        shortHeader.getMessage());
    assertTrue(gzip.getMessage().startsWith(gz + ": cannot be read ("), gzip.getMessage());
  }

  @Test
  void read_unsupportedDatatype_isRefusedByName() throws Exception {
    NiftiFile nifti = new NiftiFile();
    nifti.datatype = 512;
    Path file = nifti.write(dir.resolve("u16.nii"));

    DataLoadException e = assertThrows(DataLoadException.class, () -> NiftiVolumes.read(file, OptionalInt.empty()));

    assertEquals(file + ": datatype 512 (uint16) is not supported; convert it to uint8, int16, int32, float32 or"
        + " float64", e.getMessage());
  }

  @Test
  void read_notNifti_saysSo() throws Exception {
    Path file = dir.resolve("notes.nii");
    Files.write(file, new byte[400]);

    DataLoadException e = assertThrows(DataLoadException.class, () -> NiftiVolumes.read(file, OptionalInt.empty()));

    assertEquals(file + ": not a NIfTI file (sizeof_hdr is 0, expected 348 for NIfTI-1 or 540 for NIfTI-2, in either"
        + " byte order)", e.getMessage());
  }
}
