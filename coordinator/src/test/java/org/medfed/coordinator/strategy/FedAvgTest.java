package org.medfed.coordinator.strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FedAvgTest {

  @Test
  void aggregate_threeHospitals_isTheSampleWeightedMeanComputedByHand() {
    float[] global = {1f, 2f, 3f};
    // Deltas of 10, 30 and 60 samples; by hand, the weighted mean delta is
    // x: (10*1 + 30*0 + 60*(-1)) / 100 = -0.5
    // y: (10*2 + 30*4 + 60*1)    / 100 =  2.0
    // z: (10*0 + 30*(-2) + 60*3) / 100 =  1.2
    List<ClientUpdate> updates = List.of(
        new ClientUpdate("a", new float[] {1f, 2f, 0f}, 10, Map.of("loss", 1.0)),
        new ClientUpdate("b", new float[] {0f, 4f, -2f}, 30, Map.of("loss", 2.0)),
        new ClientUpdate("c", new float[] {-1f, 1f, 3f}, 60, Map.of("loss", 0.5)));

    Aggregate result = new FedAvg().aggregate(1, global, Aggregation.combine(updates));

    Aggregate.Updated updated = assertInstanceOf(Aggregate.Updated.class, result);
    assertArrayEquals(new float[] {0.5f, 4.0f, 4.2f}, updated.parameters(), 1e-6f);
    // Metrics are weighted the same way: (10*1 + 30*2 + 60*0.5) / 100 = 1.0
    assertEquals(1.0, updated.metrics().get("loss"), 1e-12);
    assertEquals(100.0, updated.metrics().get("samples"));
  }

  @Test
  void combine_updatesOfDifferentLengths_isRefusedNamingTheNode() {
    List<ClientUpdate> updates = List.of(
        new ClientUpdate("a", new float[] {1f, 2f}, 1, Map.of()),
        new ClientUpdate("b", new float[] {1f}, 1, Map.of()));

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Aggregation.combine(updates));

    assertEquals("update from 'b' has 1 values, expected 2", e.getMessage());
  }

  @Test
  void aggregate_updateOfWrongLength_isRefused() {
    RoundUpdate update = new RoundUpdate(new float[] {1f}, 5, 1, Map.of());

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new FedAvg().aggregate(1, new float[] {0f, 0f}, update));

    assertEquals("the round update has 1 values but the model has 2", e.getMessage());
  }

  @Test
  void fedAvgM_secondRound_addsMomentumOfTheFirst() {
    FedAvgM strategy = new FedAvgM(1.0, 0.5);
    RoundUpdate round = new RoundUpdate(new float[] {1f}, 5, 1, Map.of());

    float[] afterOne = ((Aggregate.Updated) strategy.aggregate(1, new float[] {0f}, round)).parameters();
    float[] afterTwo = ((Aggregate.Updated) strategy.aggregate(2, afterOne, round)).parameters();

    // v1 = 1, x1 = 1; v2 = 0.5 * 1 + 1 = 1.5, x2 = 2.5
    assertArrayEquals(new float[] {1f}, afterOne);
    assertArrayEquals(new float[] {2.5f}, afterTwo);
  }

  @Test
  void fedAvgM_withoutMomentum_equalsFedAvg() {
    RoundUpdate update = Aggregation.combine(List.of(
        new ClientUpdate("a", new float[] {1f, -1f}, 3, Map.of()),
        new ClientUpdate("b", new float[] {2f, 5f}, 1, Map.of())));
    float[] global = {0.25f, 0.5f};

    var plain = (Aggregate.Updated) new FedAvg().aggregate(1, global, update);
    var momentumFree = (Aggregate.Updated) new FedAvgM(1.0, 0.0).aggregate(1, global, update);

    assertArrayEquals(plain.parameters(), momentumFree.parameters(), 1e-7f);
  }
}
