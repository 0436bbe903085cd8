package org.medfed.nodeagent.data;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.dataset.DataSet;

/**
 * A dataset loaded into memory at the hospital: features and one-hot labels for the train and
 * held-out test split. Never leaves the agent; only {@link #descriptor()} does.
 *
 * @param inputShape per-sample shape: {@code [channels, height, width]} or {@code [features]}
 * @param featureNames the id of each feature column, in order, when the files name them (genes,
 *     variables): jobs that name their features are aligned to them by id
 */
public record LocalDataset(String name, DatasetKind kind, long[] inputShape, List<String> classes,
    DataSet train, DataSet test, List<String> featureNames) {

  /** A dataset whose inputs are positional (images, or a matrix without named columns). */
  public LocalDataset(String name, DatasetKind kind, long[] inputShape, List<String> classes, DataSet train,
      DataSet test) {
    this(name, kind, inputShape, classes, train, test, List.of());
  }

  public LocalDataset {
    Objects.requireNonNull(train, "train");
    Objects.requireNonNull(test, "test");
    inputShape = inputShape.clone();
    classes = List.copyOf(classes);
    featureNames = List.copyOf(featureNames);
    if (!featureNames.isEmpty() && (inputShape.length != 1 || inputShape[0] != featureNames.size())) {
      throw new IllegalArgumentException("dataset '" + name + "' names " + featureNames.size()
          + " features for input shape " + Arrays.toString(inputShape));
    }
  }

  @Override
  public long[] inputShape() {
    return inputShape.clone();
  }

  public int trainSamples() {
    return train.isEmpty() ? 0 : train.numExamples();
  }

  public int testSamples() {
    return test.isEmpty() ? 0 : test.numExamples();
  }

  public DatasetDescriptor descriptor() {
    return new DatasetDescriptor(name, kind, trainSamples(), testSamples(), inputShape, classes);
  }

  @Override
  public String toString() {
    return "LocalDataset[" + name + ", " + kind + ", shape=" + Arrays.toString(inputShape) + ", train="
        + trainSamples() + ", test=" + testSamples() + "]";
  }
}
