package org.medfed.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.job.StrategyName;
import org.medfed.coordinator.job.StrategySpec;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.strategy.Aggregate;
import org.medfed.coordinator.strategy.RoundInput;
import org.medfed.coordinator.strategy.RoundUpdate;
import org.medfed.coordinator.strategy.Strategies;
import org.medfed.coordinator.strategy.Strategy;
import org.medfed.coordinator.strategy.StrategyState;
import org.medfed.wire.Digests;
import org.medfed.wire.Tensors;
import org.medfed.wire.UpdateLayout;

class CheckpointStoreTest {
  @TempDir Path dir;

  private final GlobalModel model = new GlobalModel("{}", new float[] {1f, 2f, 3f});
  private final StrategyState moments = StrategyState.of(Map.of(
      "v", new double[] {0.25, 0.5, 1e-9},
      "m", new double[] {-1, 0, 3.5}));

  /**
   * A coordinator paused past its lease (token 1) and resumed after a standby took over (token 2)
   * renames its checkpoint into place after the new one's: the database fences it off, and the
   * files must too.
   */
  @Test
  void staleLeader_writingARoundAfterTheNewLeader_neitherReplacesNorShadowsIt() throws Exception {
    GlobalModel stale = new GlobalModel("{}", new float[] {9f, 9f, 9f});
    CheckpointStore newLeader = new CheckpointStore(dir, DataFiles.local(), 2);
    CheckpointStore oldLeader = new CheckpointStore(dir, DataFiles.local(), 1);

    String recorded = newLeader.write("job", 5, model, Map.of("eval_accuracy", 0.9), moments);
    oldLeader.write("job", 5, stale, Map.of("eval_accuracy", 0.1), StrategyState.NONE);

    for (CheckpointStore reader : List.of(newLeader, oldLeader, new CheckpointStore(dir))) {
      assertArrayEquals(model.parameters(), reader.readVerified("job", 5, recorded).model().parameters());
      assertEquals(0.9, reader.readMetrics("job", 5).get("eval_accuracy"));
    }
    assertTrue(Files.isDirectory(dir.resolve("job/round-0005.t2")));
  }

  @Test
  void newLeader_rewritingARoundTheOldOneWrote_replacesIt_andRemovesTheOldCopy() {
    GlobalModel stale = new GlobalModel("{}", new float[] {9f, 9f, 9f});
    new CheckpointStore(dir).write("job", 3, stale, Map.of(), StrategyState.NONE);
    new CheckpointStore(dir, DataFiles.local(), 1).write("job", 3, stale, Map.of(), StrategyState.NONE);

    String recorded = new CheckpointStore(dir, DataFiles.local(), 4).write("job", 3, model, Map.of(), moments);

    assertArrayEquals(model.parameters(), new CheckpointStore(dir).readVerified("job", 3, recorded).model()
        .parameters());
    assertTrue(Files.notExists(dir.resolve("job/round-0003")) && Files.notExists(dir.resolve("job/round-0003.t1")));
    assertEquals(3, new CheckpointStore(dir).latestRound("job").getAsInt());
  }

  @Test
  void namedState_roundTrips_inSortedNameOrder() {
    CheckpointStore checkpoints = new CheckpointStore(dir);

    String digest = checkpoints.write("job", 1, model, Map.of(), moments);
    CheckpointStore.Checkpoint read = checkpoints.readVerified("job", 1, digest);

    assertArrayEquals(model.parameters(), read.model().parameters());
    assertEquals(moments, read.strategyState());
    assertEquals(List.of("m", "v"), List.copyOf(read.strategyState().names()));
    assertArrayEquals(new double[] {0.25, 0.5, 1e-9}, read.strategyState().get("v"));
  }

  @Test
  void digest_withoutState_isTheParametersAlone_soFedAvgCheckpointsKeepTheirDigest() {
    String digest = new CheckpointStore(dir).write("job", 1, model, Map.of(), StrategyState.NONE);

    assertEquals(Digests.hex(Digests.sha256(Tensors.toBytes(model.parameters()))), digest);
    assertTrue(Files.notExists(dir.resolve("job/round-0001/strategy-state.bin")));
  }

  @Test
  void digest_withState_coversTheState() {
    CheckpointStore checkpoints = new CheckpointStore(dir);

    String withState = checkpoints.write("job", 1, model, Map.of(), moments);
    String otherState = checkpoints.write("job", 2, model, Map.of(),
        StrategyState.of(Map.of("m", new double[] {-1, 0, 3.5}, "v", new double[] {0.25, 0.5, 2e-9})));

    assertTrue(!withState.equals(otherState) && !withState.equals(Digests.hex(Digests.sha256(
        Tensors.toBytes(model.parameters())))), withState + " " + otherState);
  }

  /**
   * Parameters are streamed to the file and into the digest (no model-sized byte array), and give
   * what the whole-array encoding gave: checkpoints written before still verify, and a stand-in
   * disk that only takes whole byte arrays gets the same file.
   */
  @Test
  void streamedCheckpoint_writesAndDigestsTheBytesTheWholeArrayEncodingGave() throws Exception {
    float[] values = new float[100_003];  // more than one piece, and not a whole number of them
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) Math.sin(i) * i;
    }
    GlobalModel large = new GlobalModel("{}", values);
    byte[] whole = Tensors.toBytes(values);
    byte[] state = StrategyStateFile.encode(moments);
    byte[] wholeAndState = Arrays.copyOf(whole, whole.length + state.length);
    System.arraycopy(state, 0, wholeAndState, whole.length, state.length);
    Path standIn = dir.resolve("stand-in");

    String streamed = new CheckpointStore(dir).write("job", 1, large, Map.of(), moments);
    String viaBytes = new CheckpointStore(standIn, (file, bytes) -> DataFiles.local().write(file, bytes))
        .write("job", 1, large, Map.of(), moments);

    assertArrayEquals(whole, Files.readAllBytes(dir.resolve("job/round-0001/params.f32")));
    assertArrayEquals(whole, Files.readAllBytes(standIn.resolve("job/round-0001/params.f32")));
    assertEquals(Digests.hex(Digests.sha256(wholeAndState)), streamed);
    assertEquals(streamed, viaBytes);
    assertEquals(large, new CheckpointStore(dir).readVerified("job", 1, streamed).model());
  }

  @Test
  void readVerified_tamperedStateFile_isRefusedNamingTheFile() throws Exception {
    CheckpointStore checkpoints = new CheckpointStore(dir);
    String digest = checkpoints.write("job", 1, model, Map.of(), moments);
    Path stateFile = dir.resolve("job/round-0001/strategy-state.bin");
    byte[] bytes = Files.readAllBytes(stateFile);
    bytes[bytes.length - 1] ^= 0x01; // the last bit of v[2]: still a well-formed file

    Files.write(stateFile, bytes);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> checkpoints.readVerified("job", 1, digest));

    assertTrue(e.getMessage().contains("round-0001") && e.getMessage().contains("strategy-state.bin")
        && e.getMessage().contains("restore it from a backup"), e.getMessage());
  }

  @Test
  void readVerified_truncatedStateFile_isRefusedNamingTheFile() throws Exception {
    CheckpointStore checkpoints = new CheckpointStore(dir);
    String digest = checkpoints.write("job", 1, model, Map.of(), moments);
    Path stateFile = dir.resolve("job/round-0001/strategy-state.bin");
    Files.write(stateFile, Arrays.copyOf(Files.readAllBytes(stateFile), 20));

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> checkpoints.readVerified("job", 1, digest));

    assertTrue(e.getMessage().contains(stateFile.toString()) && e.getMessage().contains("ends early"),
        e.getMessage());
  }

  @Test
  void readVerified_removedStateFile_isRefused() throws Exception {
    CheckpointStore checkpoints = new CheckpointStore(dir);
    String digest = checkpoints.write("job", 1, model, Map.of(), moments);
    Files.delete(dir.resolve("job/round-0001/strategy-state.bin"));

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> checkpoints.readVerified("job", 1, digest));

    assertTrue(e.getMessage().contains("no strategy-state.bin"), e.getMessage());
  }

  @Test
  void resumedFedAdam_restoresMAndV_andStepsExactlyAsAnUninterruptedOne() {
    CheckpointStore checkpoints = new CheckpointStore(dir);
    StrategySpec spec = StrategySpec.of(StrategyName.FEDADAM);
    RoundUpdate round1 = new RoundUpdate(new float[] {0.5f, -1f, 2f}, 10, 2, Map.of());
    RoundUpdate round2 = new RoundUpdate(new float[] {-0.25f, 1f, 1f}, 10, 2, Map.of());
    Strategy uninterrupted = Strategies.create(spec);
    float[] afterOne = parameters(uninterrupted.aggregate(1, model.parameters(), new RoundInput.Mean(round1)));
    String digest = checkpoints.write("job-adam", 1, new GlobalModel("{}", afterOne), Map.of(),
        uninterrupted.state());

    Strategy resumed = Strategies.create(spec);
    CheckpointStore.Checkpoint checkpoint = checkpoints.readVerified("job-adam", 1, digest);
    resumed.restore(checkpoint.strategyState());

    assertEquals(Set.of("m", "v"), checkpoint.strategyState().names());
    assertEquals(uninterrupted.state(), resumed.state());
    assertArrayEquals(parameters(uninterrupted.aggregate(2, afterOne, new RoundInput.Mean(round2))),
        parameters(resumed.aggregate(2, checkpoint.model().parameters(), new RoundInput.Mean(round2))));
  }

  @Test
  void resumedScaffold_restoresTheServerControlVariate_sendsAndStepsExactlyAsAnUninterruptedOne() {
    CheckpointStore checkpoints = new CheckpointStore(dir);
    StrategySpec spec = StrategySpec.of(StrategyName.SCAFFOLD);
    RoundUpdate round1 = new RoundUpdate(new float[] {0.5f, -1f, 2f},
        Map.of(UpdateLayout.CONTROL_DELTA, new float[] {0.25f, 4f, -3f}), 10, 2, Map.of());
    RoundUpdate round2 = new RoundUpdate(new float[] {-0.25f, 1f, 1f},
        Map.of(UpdateLayout.CONTROL_DELTA, new float[] {1f, -1f, 0.5f}), 10, 2, Map.of());
    Strategy uninterrupted = Strategies.create(spec);
    float[] afterOne = parameters(uninterrupted.aggregate(1, model.parameters(), new RoundInput.Mean(round1, 3)));
    String digest = checkpoints.write("job-scaffold", 1, new GlobalModel("{}", afterOne), Map.of(),
        uninterrupted.state());

    Strategy resumed = Strategies.create(spec);
    CheckpointStore.Checkpoint checkpoint = checkpoints.readVerified("job-scaffold", 1, digest);
    resumed.restore(checkpoint.strategyState());

    assertEquals(Set.of("control"), checkpoint.strategyState().names());
    assertArrayEquals(uninterrupted.taskTensors(2, afterOne).get(UpdateLayout.SERVER_CONTROL),
        resumed.taskTensors(2, checkpoint.model().parameters()).get(UpdateLayout.SERVER_CONTROL));
    assertArrayEquals(parameters(uninterrupted.aggregate(2, afterOne, new RoundInput.Mean(round2, 3))),
        parameters(resumed.aggregate(2, checkpoint.model().parameters(), new RoundInput.Mean(round2, 3))));
    assertEquals(uninterrupted.state(), resumed.state());
  }

  private static float[] parameters(Aggregate aggregate) {
    return ((Aggregate.Updated) aggregate).parameters();
  }

  @Test
  void readVerified_legacyMomentumFile_isReadAsVelocity_underTheParametersOnlyDigest() throws Exception {
    CheckpointStore checkpoints = new CheckpointStore(dir);
    String paramsOnly = checkpoints.write("job", 1, model, Map.of(), StrategyState.NONE);
    // What a coordinator before named state wrote for FedAvgM: bare little-endian float64s.
    ByteBuffer legacy = ByteBuffer.allocate(2 * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.5)
        .putDouble(-2);
    Files.write(dir.resolve("job/round-0001/strategy-state.f64"), legacy.array());

    StrategyState state = checkpoints.readVerified("job", 1, paramsOnly).strategyState();

    assertEquals(Set.of("velocity"), state.names());
    assertArrayEquals(new double[] {0.5, -2}, state.get("velocity"));
  }
}
