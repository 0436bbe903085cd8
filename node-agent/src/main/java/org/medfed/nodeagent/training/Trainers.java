package org.medfed.nodeagent.training;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Makes the {@link LocalTrainer} agent.yaml chooses: DL4J in this JVM, or one from an optional jar. */
public final class Trainers {
  private Trainers() {}

  /**
   * @throws IllegalArgumentException when no jar on the classpath provides the kind, or its settings
   *     are wrong; the message says which jar to add or which setting to fix
   */
  public static LocalTrainer create(TrainerChoice choice) {
    if (choice.kind().equals(TrainerChoice.DL4J)) {
      if (!choice.settings().isEmpty()) {
        throw new IllegalArgumentException("trainer kind dl4j takes no settings, got " + choice.settings().keySet());
      }
      return new Dl4jTrainer();
    }
    List<String> found = new ArrayList<>(List.of(TrainerChoice.DL4J));
    for (TrainerProvider provider : ServiceLoader.load(TrainerProvider.class, Trainers.class.getClassLoader())) {
      if (provider.kind().equals(choice.kind())) {
        return provider.create(choice.settings());
      }
      found.add(provider.kind());
    }
    throw new IllegalArgumentException("trainer kind '" + choice.kind() + "' is not on this agent's classpath (found "
        + found + "); " + (choice.kind().equals("spark")
            ? "put medfed-spark-trainer's jar and its dependencies (Apache Spark 3.5) on the classpath and start the"
                + " JVM with Spark's --add-opens flags (bin/medfed-agent does both with MEDFED_AGENT_SPARK=1), "
            : "add the jar that provides it, ")
        + "or remove the trainer section to train with dl4j in the agent's JVM");
  }
}
