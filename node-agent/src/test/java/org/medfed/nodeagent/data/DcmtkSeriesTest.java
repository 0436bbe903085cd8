package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A series made from pydicom's real CT_small.dcm by DICOM's own tooling, dcmtk's {@code dcmodify}
 * ({@code apt-get install dcmtk}; {@code .ci/run} installs it), not by this project's writer: five
 * slices 5 mm apart, each with its own SOPInstanceUID, InstanceNumber and RescaleIntercept (so each
 * slice's values tell where it ended up), saved under random names in shuffled order.
 */
class DcmtkSeriesTest {
  private static final String POSITION = "-158.135803\\-179.035797\\%s";
  private static final double FIRST_Z = -75.699997;
  private static final int SLICES = 5;

  @TempDir Path dir;

  @BeforeAll
  static void dcmtk() {
    assumeTrue(onPath("dcmodify"), "skipped: dcmtk's dcmodify is not installed; apt-get install dcmtk (.ci/run does)");
  }

  @Test
  void shuffledRandomlyNamedSlices_stackByPosition_eachWithItsOwnRescale() throws Exception {
    Path study = series(dir.resolve("study"), List.of());

    NiftiVolumes.Volume volume = DicomSeries.read(study);

    assertEquals(List.of(SLICES, 128, 128), List.of(volume.depth(), volume.height(), volume.width()));
    assertEquals(5.0, volume.spacing().depth(), 1e-4);
    assertEquals(0.661468, volume.spacing().width(), 1e-6);
    // Slice k lies at z = FIRST_Z + 5k (inferior to superior, the volume's depth) with intercept -1024 + 100k.
    double first = mean(volume, 0);
    for (int s = 1; s < SLICES; s++) {
      assertEquals(100.0 * s, mean(volume, s) - first, 1e-3, "slice " + s);
    }
  }

  @Test
  void aMissingSlice_stopsTheLoad_namingWhereItIsMissing() throws Exception {
    Path study = series(dir.resolve("gap"), List.of(2));

    DataLoadException e = assertThrows(DataLoadException.class, () -> DicomSeries.read(study));

    assertTrue(e.getMessage().contains("a slice is missing between"), e.getMessage());
    assertTrue(e.getMessage().contains(".dcm"), e.getMessage());
  }

  /** The series in {@code folder}, leaving out the slices at the {@code missing} indices. */
  private static Path series(Path folder, List<Integer> missing) throws Exception {
    Files.createDirectories(folder);
    Path source = Path.of(DcmtkSeriesTest.class.getResource("/dicom/CT_small.dcm").toURI());
    List<Integer> order = new ArrayList<>();
    for (int k = 0; k < SLICES; k++) {
      if (!missing.contains(k)) {
        order.add(k);
      }
    }
    Collections.shuffle(order, new Random(11));
    for (int k : order) {
      Path slice = Files.copy(source, folder.resolve(UUID.randomUUID() + ".dcm"));
      run("dcmodify", "-nb", "-m", "(0020,0032)=" + String.format(Locale.ROOT, POSITION,
          String.format(Locale.ROOT, "%.6f", FIRST_Z + 5 * k)), "-m", "(0020,0013)=" + (k + 1),
          "-m", "(0008,0018)=1.2.826.0.1.3680043.2.1125.77." + (k + 1), "-m", "(0028,1052)=" + (-1024 + 100 * k),
          slice.toString());
    }
    return folder;
  }

  private static double mean(NiftiVolumes.Volume volume, int slice) {
    int size = volume.height() * volume.width();
    double sum = 0;
    for (int i = 0; i < size; i++) {
      sum += volume.values()[slice * size + i];
    }
    return sum / size;
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
  }

  private static boolean onPath(String tool) {
    for (String folder : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(folder, tool))) {
        return true;
      }
    }
    return false;
  }
}
