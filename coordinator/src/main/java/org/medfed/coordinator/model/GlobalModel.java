package org.medfed.coordinator.model;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The global model between rounds: its DL4J architecture and flat float32 parameters.
 * Immutable: parameters are copied in and out.
 */
public record GlobalModel(String configJson, float[] parameters) {
  public GlobalModel {
    parameters = parameters.clone();
  }

  @Override
  public float[] parameters() {
    return parameters.clone();
  }

  /** The parameters without a copy, read-only: for publishing a model that may be hundreds of MB. */
  public FloatBuffer parameterView() {
    return FloatBuffer.wrap(parameters).asReadOnlyBuffer();
  }

  public int parameterCount() {
    return parameters.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GlobalModel m && configJson.equals(m.configJson)
        && Arrays.equals(parameters, m.parameters);
  }

  @Override
  public int hashCode() {
    return configJson.hashCode() * 31 + Arrays.hashCode(parameters);
  }

  @Override
  public String toString() {
    return "GlobalModel[" + parameters.length + " parameters]";
  }
}
