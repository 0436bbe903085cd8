package org.medfed.coordinator.strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Reddi et al. 2021, Algorithm 2, two rounds each, by hand. Every test uses η = 1, β1 = 0.5, τ = 1
 * and (Adam, Yogi) β2 = 0.75 so the square roots come out round; x0 = [1, 2].
 */
class FedOptTest {
  private static final float[] START = {1f, 2f};

  @Test
  void fedAdagrad_twoRounds_sumsSquaredDeltasIntoV() {
    FedOpt adagrad = new FedOpt(FedOpt.SecondMoment.ADAGRAD, 1, 0.5, 0, 1);

    // Round 1, Δ = [3, 0]: m = 0.5·0 + 0.5·Δ = [1.5, 0]; v = 0 + Δ² = [9, 0]
    // x = x + m / (√v + τ) = [1 + 1.5/(3+1), 2 + 0/(0+1)] = [1.375, 2]
    float[] x1 = step(adagrad, START, 3f, 0f);
    assertArrayEquals(new float[] {1.375f, 2f}, x1, 1e-6f);

    // Round 2, Δ = [4, 1]: m = 0.5·[1.5, 0] + 0.5·[4, 1] = [2.75, 0.5]; v = [9 + 16, 0 + 1] = [25, 1]
    // x = [1.375 + 2.75/(5+1), 2 + 0.5/(1+1)] = [1.8333333, 2.25]
    float[] x2 = step(adagrad, x1, 4f, 1f);
    assertArrayEquals(new float[] {1.8333333f, 2.25f}, x2, 1e-6f);
    assertArrayEquals(new double[] {25, 1}, adagrad.state().get("v"), 1e-12);
  }

  @Test
  void fedAdam_twoRounds_averagesSquaredDeltasIntoV() {
    FedOpt adam = new FedOpt(FedOpt.SecondMoment.ADAM, 1, 0.5, 0.75, 1);

    // Round 1, Δ = [2, -4]: m = [1, -2]; v = 0.75·0 + 0.25·[4, 16] = [1, 4]
    // x = [1 + 1/(1+1), 2 - 2/(2+1)] = [1.5, 1.3333333]
    float[] x1 = step(adam, START, 2f, -4f);
    assertArrayEquals(new float[] {1.5f, 1.3333333f}, x1, 1e-6f);

    // Round 2, Δ = [1, 2]: m = 0.5·[1, -2] + 0.5·[1, 2] = [1, 0]; v = 0.75·[1, 4] + 0.25·[1, 4] = [1, 4]
    // x = [1.5 + 1/(1+1), 1.3333333 + 0] = [2, 1.3333333]
    float[] x2 = step(adam, x1, 1f, 2f);
    assertArrayEquals(new float[] {2f, 1.3333333f}, x2, 1e-6f);
    assertArrayEquals(new double[] {1, 0}, adam.state().get("m"), 1e-12);
  }

  @Test
  void fedYogi_twoRounds_movesVAdditivelyTowardsTheSquaredDelta() {
    FedOpt yogi = new FedOpt(FedOpt.SecondMoment.YOGI, 1, 0.5, 0.75, 1);

    // Round 1, Δ = [2, -4]: v = 0 - 0.25·Δ²·sign(0 - Δ²) = 0.25·[4, 16] = [1, 4], as Adam; x = [1.5, 1.3333333]
    float[] x1 = step(yogi, START, 2f, -4f);
    assertArrayEquals(new float[] {1.5f, 1.3333333f}, x1, 1e-6f);

    // Round 2, Δ = [4, 1], Δ² = [16, 1]: m = 0.5·[1, -2] + 0.5·[4, 1] = [2.5, -0.5]
    // v[0] = 1 - 0.25·16·sign(1 - 16) = 5       (Adam: 0.75·1 + 0.25·16 = 4.75)
    // v[1] = 4 - 0.25·1·sign(4 - 1)   = 3.75    (Adam: 0.75·4 + 0.25·1  = 3.25)
    // x = [1.5 + 2.5/(√5 + 1), 1.3333333 - 0.5/(√3.75 + 1)]
    //   = [1.5 + 2.5/3.2360680, 1.3333333 - 0.5/2.9364917] = [2.2725425, 1.1630621]
    float[] x2 = step(yogi, x1, 4f, 1f);
    assertArrayEquals(new float[] {2.2725425f, 1.1630621f}, x2, 1e-6f);
    assertArrayEquals(new double[] {5, 3.75}, yogi.state().get("v"), 1e-12);
  }

  @Test
  void restore_stateOfAnotherStrategy_isRefusedNamingBoth() {
    FedOpt adam = new FedOpt(FedOpt.SecondMoment.ADAM, 0.1, 0.9, 0.99, 1e-3);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> adam.restore(StrategyState.of(Map.of("velocity", new double[] {1}))));

    assertTrue(e.getMessage().contains("[m, v]") && e.getMessage().contains("[velocity]"), e.getMessage());
  }

  @Test
  void aggregate_restoredMomentsOfAnotherModelSize_isRefused() {
    FedOpt adam = new FedOpt(FedOpt.SecondMoment.ADAM, 0.1, 0.9, 0.99, 1e-3);
    adam.restore(StrategyState.of(Map.of("m", new double[] {0}, "v", new double[] {0})));

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> step(adam, START, 1f, 1f));

    assertEquals("the restored first moment m has 1 values but the model has 2", e.getMessage());
  }

  private static float[] step(FedOpt strategy, float[] x, float... delta) {
    RoundUpdate update = new RoundUpdate(delta, 10, 2, Map.of());
    return ((Aggregate.Updated) strategy.aggregate(1, x, update)).parameters();
  }
}
