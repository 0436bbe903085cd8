package org.medfed.coordinator.job;

import java.util.List;

/** The model a job trains: a built-in architecture, or any DL4J MultiLayerConfiguration as JSON. */
public sealed interface ModelSpec {

  /** A named architecture from {@link org.medfed.coordinator.model.ModelCatalog}. */
  record BuiltIn(Architecture architecture, List<Integer> hiddenUnits) implements ModelSpec {
    public BuiltIn {
      hiddenUnits = JobSchema.MODEL_HIDDEN.check(List.copyOf(hiddenUnits));
    }
  }

  /** A user-supplied DL4J {@code MultiLayerConfiguration.toJson()}. */
  record Dl4jJson(String json) implements ModelSpec {
    public Dl4jJson {
      JobSchema.MODEL_DL4J_JSON.check(json);
    }
  }

  enum Architecture {
    /** Two convolution blocks and a dense layer, for small grayscale scans. */
    SMALL_CNN,
    /** Two 3D convolution blocks and a dense layer, for volumes ({@code [channels, depth, height, width]}). */
    SMALL_CNN3D,
    /** Fully connected layers, for expression or genotype vectors. */
    MLP,
    /**
     * A Cox proportional-hazards model for time-to-event outcomes: a linear risk score (with
     * {@code hidden} layers, a deep Cox model), trained on the partial likelihood. Over volumes
     * ({@code [channels, depth, height, width]}) the risk score sits on small-cnn3d's body.
     */
    COX
  }

  /** Whether the model reads volumes: its input shape is {@code [channels, depth, height, width]}. */
  default boolean volumetric() {
    return this instanceof BuiltIn b && b.architecture() == Architecture.SMALL_CNN3D;
  }

  /** Whether the job predicts time to event (labels [time, event], metric C-index) rather than a class. */
  default boolean survival() {
    return this instanceof BuiltIn b && b.architecture() == Architecture.COX;
  }
}
