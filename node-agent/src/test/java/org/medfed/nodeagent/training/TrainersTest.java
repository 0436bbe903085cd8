package org.medfed.nodeagent.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainersTest {

  @Test
  void create_dl4j_trainsInThisJvm() {
    assertInstanceOf(Dl4jTrainer.class, Trainers.create(TrainerChoice.dl4j()));
  }

  @Test
  void create_sparkWithoutItsJar_saysWhichJarAndFlagsToAdd() {
    // node-agent does not depend on spark-trainer, so its provider is not on this module's classpath.
    var e = assertThrows(IllegalArgumentException.class,
        () -> Trainers.create(new TrainerChoice("spark", Map.of("master", "local[2]"))));

    assertTrue(e.getMessage().startsWith("trainer kind 'spark' is not on this agent's classpath (found [dl4j]); put"
        + " medfed-spark-trainer's jar"), e.getMessage());
    assertTrue(e.getMessage().endsWith("or remove the trainer section to train with dl4j in the agent's JVM"),
        e.getMessage());
  }

  @Test
  void create_dl4jWithSettings_isRefused() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> Trainers.create(new TrainerChoice("dl4j", Map.of("master", "local[2]"))));

    assertEquals("trainer kind dl4j takes no settings, got [master]", e.getMessage());
  }
}
