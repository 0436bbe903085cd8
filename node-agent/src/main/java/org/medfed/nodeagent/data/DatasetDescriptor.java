package org.medfed.nodeagent.data;

import java.util.Arrays;
import java.util.List;

/** What a hospital tells the coordinator about a dataset: counts and shapes, never data. */
public record DatasetDescriptor(String name, DatasetKind kind, long trainSamples, long testSamples,
    long[] inputShape, List<String> classes) {
  public DatasetDescriptor {
    inputShape = inputShape.clone();
    classes = List.copyOf(classes);
  }

  @Override
  public long[] inputShape() {
    return inputShape.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DatasetDescriptor d && name.equals(d.name) && kind == d.kind
        && trainSamples == d.trainSamples && testSamples == d.testSamples
        && Arrays.equals(inputShape, d.inputShape) && classes.equals(d.classes);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(inputShape);
  }
}
