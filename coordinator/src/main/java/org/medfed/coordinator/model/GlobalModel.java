package org.medfed.coordinator.model;

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

  public int parameterCount() {
    return parameters.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GlobalModel m && configJson.equals(m.configJson)
        && java.util.Arrays.equals(parameters, m.parameters);
  }

  @Override
  public int hashCode() {
    return configJson.hashCode() * 31 + java.util.Arrays.hashCode(parameters);
  }

  @Override
  public String toString() {
    return "GlobalModel[" + parameters.length + " parameters]";
  }
}
