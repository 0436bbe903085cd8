package org.medfed.nodeagent.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlVariateStoreTest {
  @TempDir Path stateDir;

  @Test
  void load_ofAJobNeverTrainedHere_isZero() {
    ControlVariateStore.Stored fresh = new ControlVariateStore(stateDir).load("job-1", 3);

    assertArrayEquals(new double[3], fresh.values());
    assertEquals(0, fresh.round());
  }

  @Test
  void saved_survivesARestart_perJob_andALaterSaveReplacesIt() throws Exception {
    ControlVariateStore before = new ControlVariateStore(stateDir);
    before.save("job-1", 2, new double[] {0.5, -1.25, 3e-9});
    before.save("job-2", 1, new double[] {7, 8, 9});
    before.save("job-1", 5, new double[] {1, 2, 3});

    // A restarted agent opens the same folder afresh.
    ControlVariateStore after = new ControlVariateStore(stateDir);
    ControlVariateStore.Stored job1 = after.load("job-1", 3);

    assertArrayEquals(new double[] {1, 2, 3}, job1.values());
    assertEquals(5, job1.round(), "a hospital that missed rounds keeps the c_i of the last round it took part in");
    assertArrayEquals(new double[] {7, 8, 9}, after.load("job-2", 3).values());
    try (Stream<Path> files = Files.list(stateDir.resolve("control-variates"))) {
      List<Path> left = files.toList();
      assertEquals(2, left.size(), "one file per job, no temporary file left: " + left);
    }
  }

  @Test
  void load_damagedFile_isRefusedNotReset() throws Exception {
    ControlVariateStore store = new ControlVariateStore(stateDir);
    store.save("job-1", 2, new double[] {0.5, -1.25});
    Path file;
    try (Stream<Path> files = Files.list(stateDir.resolve("control-variates"))) {
      file = files.findFirst().orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 40] ^= 1;
    Files.write(file, bytes);

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> store.load("job-1", 2));

    assertTrue(e.getMessage().contains("is damaged (it fails its SHA-256)")
        && e.getMessage().contains("delete it to restart this hospital's control variate from zero"), e.getMessage());
  }

  @Test
  void load_forAModelOfAnotherSize_isRefusedWithBothSizes() {
    ControlVariateStore store = new ControlVariateStore(stateDir);
    store.save("job-1", 2, new double[] {0.5, -1.25});

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> store.load("job-1", 3));

    assertTrue(e.getMessage().contains("has 2 values but the job's model has 3"), e.getMessage());
  }
}
