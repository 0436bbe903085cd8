package org.medfed.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelSelectionTest {

  private static List<RoundRecord> rounds(String metric, double... values) {
    List<RoundRecord> rounds = new ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      rounds.add(new RoundRecord(i + 1, List.of("a"), Map.of(), Double.isNaN(values[i]) ? Map.of()
          : Map.of(metric, values[i]), Duration.ofSeconds(1), "sha"));
    }
    return rounds;
  }

  @Test
  void keepsTheBestRound_andATieKeepsTheEarlierOne() {
    ModelSelection accuracy = new ModelSelection("eval_accuracy", true, 0, 0);
    assertEquals(3, accuracy.best(rounds("eval_accuracy", 0.80, 0.85, 0.91, 0.91, 0.88)).orElseThrow().round());
  }

  @Test
  void aLossIsMinimised_asInTheRunWhereItRoseWhileAccuracyStayedFlat() {
    // docs: eval loss rose from 0.085 to 0.35 over 20 rounds with flat accuracy; the job kept the last round.
    ModelSelection loss = new ModelSelection("eval_loss", false, 0, 0);
    assertEquals(2, loss.best(rounds("eval_loss", 0.12, 0.085, 0.15, 0.35)).orElseThrow().round());
    assertFalse(ModelSelection.maximizedByDefault("eval_loss"));
    assertTrue(ModelSelection.maximizedByDefault("eval_c_index"));
  }

  @Test
  void minDeltaDecidesWhatCountsAsBetter() {
    ModelSelection coarse = new ModelSelection("eval_accuracy", true, 0, 0.02);
    // 0.81 and 0.815 are within 0.02 of 0.80; 0.83 is not.
    assertEquals(4, coarse.best(rounds("eval_accuracy", 0.80, 0.81, 0.815, 0.83)).orElseThrow().round());
  }

  @Test
  void patienceCountsRoundsSinceTheBest_andRoundsWithoutTheMetricAreSkipped() {
    ModelSelection patient = new ModelSelection("eval_accuracy", true, 2, 0);
    assertTrue(patient.stopReason(rounds("eval_accuracy", 0.7, 0.9, 0.8)).isEmpty());
    String reason = patient.stopReason(rounds("eval_accuracy", 0.7, 0.9, 0.8, 0.85)).orElseThrow();
    assertEquals("stopped early after round 4: eval_accuracy has not risen by more than 0.0 for 2 rounds"
        + " (patience 2); keeping round 2 (eval_accuracy 0.9000)", reason);
    assertEquals(2, patient.best(rounds("eval_accuracy", Double.NaN, 0.6, Double.NaN)).orElseThrow().round());
    assertTrue(patient.best(rounds("eval_accuracy", Double.NaN)).isEmpty());
    assertTrue(new ModelSelection("eval_accuracy", true, 0, 0).stopReason(rounds("eval_accuracy", 0.9, 0.1, 0.1))
        .isEmpty(), "patience 0 never stops early");
  }

  @Test
  void refusesWhatCannotBeASelection() {
    assertEquals("model_selection.metric", assertThrows(InvalidJobSpecException.class,
        () -> new ModelSelection("accuracy", true, 0, 0)).field());
    assertEquals("model_selection.patience", assertThrows(InvalidJobSpecException.class,
        () -> new ModelSelection("eval_accuracy", true, -1, 0)).field());
    assertEquals("model_selection.min_delta", assertThrows(InvalidJobSpecException.class,
        () -> new ModelSelection("eval_accuracy", true, 1, Double.NaN)).field());
  }
}
