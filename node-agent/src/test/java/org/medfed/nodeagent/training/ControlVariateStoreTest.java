package org.medfed.nodeagent.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
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
  void before_aRoundRedoneAfterItsFirstAttemptKept_startsFromTheEarlierRoundsControlVariate() {
    ControlVariateStore store = new ControlVariateStore(stateDir);
    store.save("job-1", 2, new double[] {1, 1});
    // Round 3's first attempt kept c_i+, then the coordinator died before its checkpoint.
    store.save("job-1", 3, new double[] {5, 5});

    ControlVariateStore restarted = new ControlVariateStore(stateDir);
    assertArrayEquals(new double[] {1, 1}, restarted.before("job-1", 3, 2).values(), "round 3 redone");
    assertEquals(2, restarted.before("job-1", 3, 2).round());
    assertArrayEquals(new double[] {5, 5}, restarted.before("job-1", 4, 2).values(), "round 3 committed");

    // The redo keeps its own c_i+ in place of the first attempt's, still beside round 2's.
    restarted.save("job-1", 3, new double[] {6, 6});
    assertArrayEquals(new double[] {1, 1}, restarted.before("job-1", 3, 2).values());
    assertArrayEquals(new double[] {6, 6}, restarted.before("job-1", 4, 2).values());
    assertArrayEquals(new double[] {6, 6}, restarted.load("job-1", 2).values());
    assertArrayEquals(new double[2], restarted.before("job-1", 2, 2).values(), "nothing kept before round 2");
  }

  @Test
  void load_aFileOfTheFormerSingleControlVariateFormat_isStillRead() throws Exception {
    ControlVariateStore store = new ControlVariateStore(stateDir);
    store.save("job-1", 1, new double[] {0, 0});
    Path file;
    try (Stream<Path> files = Files.list(stateDir.resolve("control-variates"))) {
      file = files.findFirst().orElseThrow();
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF("medfed-control-variate/v1");
      out.writeUTF("job-1");
      out.writeInt(4);
      out.writeInt(2);
      out.writeDouble(0.5);
      out.writeDouble(-2);
      out.write(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
    }
    Files.write(file, bytes.toByteArray());

    assertArrayEquals(new double[] {0.5, -2}, store.before("job-1", 5, 2).values());
    assertEquals(4, store.load("job-1", 2).round());
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
