package org.medfed.nodeagent.training;

import java.util.Map;
import java.util.Objects;

/**
 * Which {@link LocalTrainer} an agent trains with, as agent.yaml's {@code trainer} section names it:
 * a kind ({@code dl4j}, the default, trains in the agent's own JVM) and the kind's settings as text,
 * for example {@code {kind: spark, master: "local[4]"}}. Only {@link Trainers} reads the settings.
 */
public record TrainerChoice(String kind, Map<String, String> settings) {
  /** The kind that needs no extra jar: {@link Dl4jTrainer}. */
  public static final String DL4J = "dl4j";

  public TrainerChoice {
    Objects.requireNonNull(kind, "kind");
    if (!kind.matches("[a-z][a-z0-9_-]{0,31}")) {
      throw new IllegalArgumentException("trainer kind '" + kind + "' must be a lower-case name such as dl4j or spark");
    }
    settings = Map.copyOf(settings);
  }

  /** DL4J in the agent's JVM, which every agent carries. */
  public static TrainerChoice dl4j() {
    return new TrainerChoice(DL4J, Map.of());
  }
}
