package org.medfed.coordinator.strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RobustRulesTest {
  private static final float[] ZERO3 = {0f, 0f, 0f};

  @Test
  void fedMedian_oddCount_takesTheMiddleValuePerCoordinate_ignoringSamples() {
    // Per coordinate, sorted: [1, 2, 100] -> 2; [-5, 0, 10] -> 0; [-3, 0, 1] -> 0.
    // c's 1000 samples do not pull the median towards its outlying 100.
    List<ClientUpdate> updates = List.of(
        update("a", 10, 1f, 10f, -3f),
        update("b", 20, 2f, -5f, 0f),
        update("c", 1000, 100f, 0f, 1f));

    Aggregate.Updated result = updated(new FedMedian().aggregate(1, new float[] {1f, 1f, 1f}, updates));

    assertArrayEquals(new float[] {3f, 1f, 1f}, result.parameters());
    assertEquals(1030.0, result.metrics().get("samples"));
  }

  @Test
  void fedMedian_evenCount_averagesTheTwoMiddleValues() {
    // Sorted: [1, 2, 3, 100] -> 2.5; [-5, 0, 1, 10] -> 0.5; [-3, 0, 1, 1] -> 0.5
    List<ClientUpdate> updates = List.of(
        update("a", 1, 1f, 10f, -3f),
        update("b", 1, 2f, -5f, 0f),
        update("c", 1, 100f, 0f, 1f),
        update("d", 1, 3f, 1f, 1f));

    assertArrayEquals(new float[] {2.5f, 0.5f, 0.5f}, updated(new FedMedian().aggregate(1, ZERO3, updates)).parameters());
  }

  @Test
  void fedTrimmedAvg_dropsFloorOfBetaTimesNFromEachEnd() {
    // β = 0.2, n = 5: ⌊0.2·5⌋ = 1 dropped from each end, unweighted mean of the middle three:
    // [1, 2, 3, 4, 100] -> (2+3+4)/3 = 3; [-50, 0, 1, 2, 3] -> (0+1+2)/3 = 1; [5, 5, 5, 5, 5] -> 5
    List<ClientUpdate> updates = List.of(
        update("a", 1, 100f, -50f, 5f),
        update("b", 7, 2f, 0f, 5f),
        update("c", 1, 1f, 3f, 5f),
        update("d", 1, 4f, 1f, 5f),
        update("e", 1, 3f, 2f, 5f));

    assertArrayEquals(new float[] {3f, 1f, 5f},
        updated(new FedTrimmedAvg(0.2).aggregate(1, ZERO3, updates)).parameters(), 1e-6f);
    // β = 0.1: ⌊0.5⌋ = 0, nothing dropped: the unweighted mean [110/5, -44/5, 5] = [22, -8.8, 5]
    assertArrayEquals(new float[] {22f, -8.8f, 5f},
        updated(new FedTrimmedAvg(0.1).aggregate(1, ZERO3, updates)).parameters(), 1e-5f);
  }

  /**
   * Five updates, f = 1, so each is scored over its n − f − 2 = 2 nearest others. Squared distances:
   * <pre>
   *        a=[0,0] b=[1,0] c=[0,2] d=[1,1] e=[10,10]
   *   a       -       1       4       2      200
   *   b       1       -       5       1      181
   *   c       4       5       -       2      164
   *   d       2       1       2       -      162
   *   e     200     181     164     162       -
   * </pre>
   * Scores: a = 1+2 = 3, b = 1+1 = 2, c = 2+4 = 6, d = 1+2 = 3, e = 162+164 = 326.
   */
  private static final List<ClientUpdate> KRUM_ROUND = List.of(
      new ClientUpdate("a", new float[] {0f, 0f}, 1, Map.of("loss", 1.0)),
      new ClientUpdate("b", new float[] {1f, 0f}, 2, Map.of("loss", 2.0)),
      new ClientUpdate("c", new float[] {0f, 2f}, 1, Map.of("loss", 3.0)),
      new ClientUpdate("d", new float[] {1f, 1f}, 1, Map.of("loss", 4.0)),
      new ClientUpdate("e", new float[] {10f, 10f}, 50, Map.of("loss", 9.0)));

  @Test
  void krumScores_areTheSumsOfSquaredDistancesToTheNearestOthers() {
    assertArrayEquals(new double[] {3, 2, 6, 3, 326}, RobustAggregation.krumScores(KRUM_ROUND, 1));
  }

  @Test
  void krum_picksTheLowestScoredUpdate() {
    Aggregate.Updated result = updated(new Krum(1, 1).aggregate(1, new float[] {0.5f, 0.5f}, KRUM_ROUND));

    // b = [1, 0] scores 2: x = [0.5 + 1, 0.5 + 0]
    assertArrayEquals(new float[] {1.5f, 0.5f}, result.parameters());
    assertEquals(2.0, result.metrics().get("loss"));
  }

  @Test
  void multiKrum_averagesTheMLowestScored_weightedBySamples() {
    Aggregate.Updated result = updated(new Krum(1, 3).aggregate(1, new float[] {0f, 0f}, KRUM_ROUND));

    // m = 3: b (2), then a and d (3 each); (1·[0,0] + 2·[1,0] + 1·[1,1]) / 4 = [0.75, 0.25]
    assertArrayEquals(new float[] {0.75f, 0.25f}, result.parameters());
    // Loss of the chosen: (1·1 + 2·2 + 1·4) / 4 = 2.25, over their 4 samples
    assertEquals(2.25, result.metrics().get("loss"), 1e-12);
    assertEquals(4.0, result.metrics().get("samples"));
  }

  @Test
  void krum_withTooFewUpdatesForF_skipsTheRoundSayingWhy() {
    Aggregate result = new Krum(1, 1).aggregate(3, new float[] {0f, 0f}, KRUM_ROUND.subList(0, 4));

    Aggregate.Skipped skipped = assertInstanceOf(Aggregate.Skipped.class, result);
    assertEquals("Krum(f=1) needs more than 2f + 2 = 4 updates to tolerate f = 1 arbitrary ones, but the round "
        + "has 4; raise min_nodes to 5 or lower strategy.byzantine", skipped.reason());
  }

  @Test
  void multiKrum_selectingMoreThanCanBeTrusted_skipsTheRound() {
    Aggregate result = new Krum(1, 5).aggregate(1, new float[] {0f, 0f}, KRUM_ROUND);

    assertTrue(assertInstanceOf(Aggregate.Skipped.class, result).reason().contains("lower strategy.selected"));
  }

  @Test
  void perUpdateRule_givenOnlyASecureMean_isABrokenInvariant() {
    RoundInput secure = new RoundInput.Mean(new RoundUpdate(new float[] {1f}, 5, 3, Map.of()));

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new FedMedian().aggregate(1, new float[] {0f}, secure));

    assertTrue(e.getMessage().contains("needs each hospital's update"), e.getMessage());
  }

  @Test
  void meanRule_givenEachUpdate_seesTheirWeightedMean() {
    RoundInput plaintext = new RoundInput.EachUpdate(List.of(update("a", 1, 0f), update("b", 3, 4f)));

    // (1·0 + 3·4) / 4 = 3
    assertArrayEquals(new float[] {3f}, updated(new FedAvg().aggregate(1, new float[] {0f}, plaintext)).parameters());
  }

  private static ClientUpdate update(String node, long samples, float... delta) {
    return new ClientUpdate(node, delta, samples, Map.of());
  }

  private static Aggregate.Updated updated(Aggregate aggregate) {
    return assertInstanceOf(Aggregate.Updated.class, aggregate);
  }
}
