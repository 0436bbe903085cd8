package org.medfed.nodeagent.data;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Maps a hospital's own feature columns to the feature ids a job names, by id: each site may hold
 * its genes in any order, with extras the job ignores and, if its declaration allows, gaps filled
 * with a stated value. The report says what was missing and how it was handled.
 */
public final class FeatureAlignment {
  private FeatureAlignment() {}

  /** The aligned dataset and what was missing, or why the dataset cannot serve the job. */
  public record Result(Optional<LocalDataset> dataset, List<String> missing, String report) {}

  public static Result align(LocalDataset dataset, List<String> wanted, MissingFeatures policy) {
    if (dataset.featureNames().isEmpty()) {
      return new Result(Optional.empty(), List.of(), "dataset '" + dataset.name() + "' has no named feature columns,"
          + " but the job names " + wanted.size() + " features; declare a table whose header names them");
    }
    Map<String, Integer> column = new HashMap<>();
    List<String> names = dataset.featureNames();
    for (int j = 0; j < names.size(); j++) {
      column.putIfAbsent(names.get(j), j);
    }
    int[] source = new int[wanted.size()];
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < wanted.size(); i++) {
      Integer j = column.get(wanted.get(i));
      source[i] = j == null ? -1 : j;
      if (j == null) {
        missing.add(wanted.get(i));
      }
    }
    String summary = missing.size() + " of the job's " + wanted.size() + " features missing at dataset '"
        + dataset.name() + "'" + (missing.isEmpty() ? "" : ": " + preview(missing));
    if (!missing.isEmpty() && !policy.impute()) {
      return new Result(Optional.empty(), missing, summary + "; its declaration says missing_features: fail"
          + " (declare missing_features: {impute: VALUE} to fill them)");
    }
    LocalDataset aligned = new LocalDataset(dataset.name(), dataset.kind(), new long[] {wanted.size()},
        dataset.classes(), select(dataset.train(), source, policy.value()), select(dataset.test(), source,
        policy.value()), wanted);
    return new Result(Optional.of(aligned), missing, summary + (missing.isEmpty() ? ""
        : "; imputed with " + policy.value()) + "; " + (names.size() - (wanted.size() - missing.size()))
        + " of its own columns unused");
  }

  private static DataSet select(DataSet data, int[] source, float fill) {
    if (data.isEmpty() || data.numExamples() == 0) {
      return new DataSet(Nd4j.create(DataType.FLOAT, 0, source.length), data.getLabels());
    }
    float[][] in = data.getFeatures().toFloatMatrix();
    float[][] out = new float[in.length][source.length];
    for (int r = 0; r < in.length; r++) {
      for (int i = 0; i < source.length; i++) {
        out[r][i] = source[i] < 0 ? fill : in[r][source[i]];
      }
    }
    INDArray features = Nd4j.create(out);
    return new DataSet(features, data.getLabels());
  }

  private static String preview(List<String> ids) {
    return ids.size() <= 10 ? ids.toString() : ids.subList(0, 10) + " and " + (ids.size() - 10) + " more";
  }
}
