package org.medfed.sparktrainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.medfed.nodeagent.training.TrainerChoice;
import org.medfed.nodeagent.training.Trainers;

/** Settings are checked before a SparkContext starts, so these tests start none. */
class SparkTrainerProviderTest {

  @Test
  void create_withoutMaster_saysWhichMastersThereAre() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> Trainers.create(new TrainerChoice("spark", Map.of("partitions", "4"))));

    assertTrue(e.getMessage().startsWith("the spark trainer needs a master: local[N]"), e.getMessage());
  }

  @Test
  void create_unknownSetting_isNamed() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> Trainers.create(new TrainerChoice("spark", Map.of("master", "local[2]", "executors", "4"))));

    assertEquals("unknown spark trainer settings [executors]; expected master, partitions and spark.* configuration"
        + " keys", e.getMessage());
  }

  @Test
  void create_partitionsNotANumber_isRefusedWithTheValue() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> Trainers.create(new TrainerChoice("spark", Map.of("master", "local[2]", "partitions", "many"))));

    assertEquals("partitions must be a whole number >= 1, got 'many'", e.getMessage());
  }
}
