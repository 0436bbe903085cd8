package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The NIfTI reader on real files it did not write: nibabel's test data as Debian ships it
 * ({@code apt-get install python3-nibabel}; {@code .ci/run} installs it). The expected figures were
 * computed once with nibabel 5.0.0 on the RAS+ canonical image, {@code nib.as_closest_canonical(img)
 * .get_fdata()} (for example4d after {@code img.slicer[..., 1]}), whose {@code [r, a, s]} is the
 * reader's {@code values[(s * A + a) * R + r]}:
 *
 * <pre>
 * anatomical.nii     big-endian int16, LAS, qform/sform 2  -> S,A,R 25,41,33; 2 mm; sum 284166082
 * example4d.nii.gz   int16, 4D (2 volumes), oblique LAS   -> volume 1: 24,96,128; 2.2/2/2 mm; sum 50990959
 * standard.nii.gz    uint8, sform only (RAS)               -> 7,5,4; 2/3/1 mm; sum 7650
 * </pre>
 */
class NibabelFilesTest {
  private static final Path DATA = Path.of("/usr/lib/python3/dist-packages/nibabel/tests/data");

  @BeforeAll
  static void nibabelTestData() {
    assumeTrue(Files.isRegularFile(DATA.resolve("anatomical.nii")), "skipped: nibabel's test data is not installed;"
        + " apt-get install python3-nibabel (.ci/run does)");
  }

  @Test
  void anatomical_bigEndianInt16_flippedLeftToRight() {
    NiftiVolumes.Volume volume = NiftiVolumes.read(DATA.resolve("anatomical.nii"), OptionalInt.empty());

    assertShape(volume, 25, 41, 33, new VolumePreprocessing.Spacing(2, 2, 2));
    assertEquals(284_166_082.0, sum(volume), 0.5);
    assertVoxel(volume, 0, 0, 0, 9595);
    assertVoxel(volume, 24, 40, 32, 2743);
    assertVoxel(volume, 3, 3, 0, 4723);
    assertVoxel(volume, 21, 19, 9, 3404);
    assertVoxel(volume, 24, 6, 23, 10808);
    assertVoxel(volume, 1, 12, 24, 10106);
  }

  @Test
  void example4d_gzipped_obliqueToNearestAxes_picksTheDeclaredVolume_andRefusesWithoutOne() {
    NiftiVolumes.Volume volume = NiftiVolumes.read(DATA.resolve("example4d.nii.gz"), OptionalInt.of(1));

    assertShape(volume, 24, 96, 128, new VolumePreprocessing.Spacing(2.2, 2, 2));
    assertEquals(50_990_959.0, sum(volume), 0.5);
    assertVoxel(volume, 21, 47, 44, 514);
    assertVoxel(volume, 3, 67, 64, 401);
    assertVoxel(volume, 23, 95, 127, 0);
    DataLoadException fourD = assertThrows(DataLoadException.class,
        () -> NiftiVolumes.read(DATA.resolve("example4d.nii.gz"), OptionalInt.empty()));
    assertTrue(fourD.getMessage().contains("example4d.nii.gz") && fourD.getMessage().contains("volume"),
        fourD.getMessage());
  }

  @Test
  void standard_uint8_sformOnly() {
    NiftiVolumes.Volume volume = NiftiVolumes.read(DATA.resolve("standard.nii.gz"), OptionalInt.empty());

    assertShape(volume, 7, 5, 4, new VolumePreprocessing.Spacing(2, 3, 1));
    assertEquals(7650.0, sum(volume), 0.5);
    assertVoxel(volume, 6, 4, 3, 255);
    assertVoxel(volume, 1, 3, 3, 255);
    assertVoxel(volume, 4, 2, 3, 0);
  }

  private static void assertShape(NiftiVolumes.Volume volume, int depth, int height, int width,
      VolumePreprocessing.Spacing spacing) {
    assertEquals(depth, volume.depth());
    assertEquals(height, volume.height());
    assertEquals(width, volume.width());
    assertEquals(spacing.depth(), volume.spacing().depth(), 1e-5);
    assertEquals(spacing.height(), volume.spacing().height(), 1e-5);
    assertEquals(spacing.width(), volume.spacing().width(), 1e-5);
  }

  private static void assertVoxel(NiftiVolumes.Volume volume, int s, int a, int r, double expected) {
    assertEquals(expected, volume.values()[(s * volume.height() + a) * volume.width() + r], 1e-6,
        "voxel s=" + s + " a=" + a + " r=" + r);
  }

  private static double sum(NiftiVolumes.Volume volume) {
    double sum = 0;
    for (float value : volume.values()) {
      sum += value;
    }
    return sum;
  }
}
