package org.medfed.coordinator.strategy;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.medfed.wire.UpdateLayout;

/**
 * What a round contributes, already combined across hospitals: the sample-weighted mean of their
 * weight deltas and of any extra vectors the strategy declared (SCAFFOLD's "control_delta").
 * Strategies see only this, whether it was averaged in the clear or recovered from a
 * secure-aggregation sum, so no strategy ever sees one hospital's update.
 *
 * @param extraMeans the mean of each extra vector, by the name the training plan gives it
 * @param samples total training samples behind the mean (from the masked weights when secure)
 */
public record RoundUpdate(float[] meanDelta, Map<String, float[]> extraMeans, double samples, int contributors,
    Map<String, Double> metrics) {
  public RoundUpdate {
    meanDelta = meanDelta.clone();
    Map<String, float[]> extras = new LinkedHashMap<>();
    int length = meanDelta.length;
    extraMeans.forEach((name, values) -> {
      if (values.length != length) {
        throw new IllegalArgumentException("mean '" + name + "' has " + values.length + " values, the delta " + length);
      }
      extras.put(name, values.clone());
    });
    extraMeans = Collections.unmodifiableMap(extras);
    metrics = Map.copyOf(metrics);
    if (contributors < 1) {
      throw new IllegalArgumentException("a round update needs at least one contributor, got " + contributors);
    }
  }

  /** A round update of the delta alone, as every strategy but SCAFFOLD receives. */
  public RoundUpdate(float[] meanDelta, double samples, int contributors, Map<String, Double> metrics) {
    this(meanDelta, Map.of(), samples, contributors, metrics);
  }

  @Override
  public float[] meanDelta() {
    return meanDelta.clone();
  }

  @Override
  public Map<String, float[]> extraMeans() {
    Map<String, float[]> copy = new LinkedHashMap<>();
    extraMeans.forEach((name, values) -> copy.put(name, values.clone()));
    return copy;
  }

  /**
   * The mean of the named vector: {@value UpdateLayout#DELTA} or an extra one.
   *
   * @throws IllegalArgumentException naming the vectors the round carries when it has no such one
   */
  public float[] mean(String vector) {
    if (vector.equals(UpdateLayout.DELTA)) {
      return meanDelta();
    }
    float[] values = extraMeans.get(vector);
    if (values == null) {
      throw new IllegalArgumentException("the round carries no mean '" + vector + "', only " + UpdateLayout.DELTA
          + (extraMeans.isEmpty() ? "" : " and " + extraMeans.keySet()));
    }
    return values.clone();
  }

  float at(int i) {
    return meanDelta[i];
  }

  int length() {
    return meanDelta.length;
  }
}
