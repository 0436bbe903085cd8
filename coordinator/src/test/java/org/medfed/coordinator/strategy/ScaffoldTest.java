package org.medfed.coordinator.strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.medfed.wire.UpdateLayout;

/**
 * SCAFFOLD's server step (Karimireddy et al. 2020, Algorithm 1 lines 16-17) by hand: x = x + η·mean(Δy),
 * c = c + (|S|/N)·mean(Δc), both means sample-weighted.
 */
class ScaffoldTest {
  private static final float[] START = {1f, 2f};

  private static ClientUpdate update(String node, long samples, float[] delta, float[] controlDelta) {
    return new ClientUpdate(node, delta, Map.of(UpdateLayout.CONTROL_DELTA, controlDelta), samples, Map.of());
  }

  private static float[] parameters(Aggregate aggregate) {
    return assertInstanceOf(Aggregate.Updated.class, aggregate).parameters();
  }

  @Test
  void twoRounds_movesXByTheMeanDelta_andCByTheContributorsShareOfTheMeanControlDelta() {
    Scaffold scaffold = new Scaffold(0.5);
    assertArrayEquals(new float[] {0f, 0f}, scaffold.taskTensors(1, START).get(UpdateLayout.SERVER_CONTROL),
        "c starts at zero");

    // Round 1, all 4 hospitals of the job, but only a (10 samples) and b (30) contributed: |S|/N = 2/4.
    // mean Δy = (10·[2, -4] + 30·[-2, 4]) / 40 = [-1, 2]; x = [1, 2] + 0.5·[-1, 2] = [0.5, 3]
    // mean Δc = (10·[4, 0] + 30·[0, 8]) / 40 = [1, 6];    c = 0 + 0.5·[1, 6] = [0.5, 3]
    RoundInput round1 = new RoundInput.EachUpdate(List.of(update("a", 10, new float[] {2, -4}, new float[] {4, 0}),
        update("b", 30, new float[] {-2, 4}, new float[] {0, 8})), 4);
    float[] x1 = parameters(scaffold.aggregate(1, START, round1));
    assertArrayEquals(new float[] {0.5f, 3f}, x1, 1e-6f);
    assertArrayEquals(new double[] {0.5, 3}, scaffold.state().get("control"), 1e-9);
    assertArrayEquals(new float[] {0.5f, 3f}, scaffold.taskTensors(2, x1).get(UpdateLayout.SERVER_CONTROL), 1e-6f);

    // Round 2, as a secure sum yields it: mean Δy = [2, 0], mean Δc = [-1, 1] from 3 of the 4 hospitals.
    // x = [0.5, 3] + 0.5·[2, 0] = [1.5, 3]; c = [0.5, 3] + 0.75·[-1, 1] = [-0.25, 3.75]
    RoundUpdate mean = new RoundUpdate(new float[] {2, 0}, Map.of(UpdateLayout.CONTROL_DELTA, new float[] {-1, 1}),
        90, 3, Map.of());
    float[] x2 = parameters(scaffold.aggregate(2, x1, new RoundInput.Mean(mean, 4)));
    assertArrayEquals(new float[] {1.5f, 3f}, x2, 1e-6f);
    assertArrayEquals(new double[] {-0.25, 3.75}, scaffold.state().get("control"), 1e-9);
  }

  @Test
  void restoredControl_isSentAndSteppedFrom_asByTheInstanceThatCheckpointedIt() {
    Scaffold before = new Scaffold(1);
    RoundUpdate mean = new RoundUpdate(new float[] {1, 1}, Map.of(UpdateLayout.CONTROL_DELTA, new float[] {2, -2}),
        10, 2, Map.of());
    before.aggregate(1, START, new RoundInput.Mean(mean, 2));

    Scaffold resumed = new Scaffold(1);
    resumed.restore(before.state());

    assertArrayEquals(new float[] {2f, -2f}, resumed.taskTensors(2, START).get(UpdateLayout.SERVER_CONTROL));
    before.aggregate(2, START, new RoundInput.Mean(mean, 2));
    resumed.aggregate(2, START, new RoundInput.Mean(mean, 2));
    assertEquals(before.state(), resumed.state());
  }

  @Test
  void roundWithoutControlDelta_isRefusedNamingWhatItCarries() {
    RoundUpdate deltaOnly = new RoundUpdate(new float[] {1, 1}, 10, 1, Map.of());

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Scaffold(1).aggregate(1, START, new RoundInput.Mean(deltaOnly)));

    assertTrue(e.getMessage().contains("no mean 'control_delta'"), e.getMessage());
  }

  @Test
  void restore_stateOfAnotherStrategy_isRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Scaffold(1).restore(StrategyState.of(Map.of("m", new double[] {1}, "v", new double[] {1}))));

    assertTrue(e.getMessage().contains("[control]") && e.getMessage().contains("[m, v]"), e.getMessage());
  }
}
