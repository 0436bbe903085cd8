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
      return new Result(Optional.empty(), List.of(), unnamed(dataset.name(), wanted));
    }
    Mapping mapping = Mapping.of(dataset.featureNames(), wanted);
    String summary = mapping.summary(dataset.name());
    if (!mapping.missing().isEmpty() && !policy.impute()) {
      return new Result(Optional.empty(), mapping.missing(), summary + refusal());
    }
    LocalDataset aligned = new LocalDataset(dataset.name(), dataset.kind(), new long[] {wanted.size()},
        dataset.classes(), select(dataset.train(), mapping.source(), policy.value()), select(dataset.test(),
        mapping.source(), policy.value()), wanted);
    return new Result(Optional.of(aligned), mapping.missing(), summary + imputed(mapping, policy,
        dataset.featureNames().size()));
  }

  /**
   * Unlabelled rows (samples by the features named {@code own}) aligned to {@code wanted} by the same
   * rule as {@link #align}.
   *
   * @throws DataLoadException with the report, when the rows name no features or lack some under
   *     {@code missing_features: fail}
   */
  public static INDArray alignRows(String datasetName, INDArray rows, List<String> own, List<String> wanted,
      MissingFeatures policy) {
    if (own.isEmpty()) {
      throw new DataLoadException(unnamed(datasetName, wanted));
    }
    Mapping mapping = Mapping.of(own, wanted);
    if (!mapping.missing().isEmpty() && !policy.impute()) {
      throw new DataLoadException(mapping.summary(datasetName) + refusal());
    }
    return select(rows, mapping.source(), policy.value());
  }

  /** Where each wanted feature sits among a table's own columns (-1 where missing). */
  private record Mapping(int[] source, List<String> missing) {
    static Mapping of(List<String> own, List<String> wanted) {
      Map<String, Integer> column = new HashMap<>();
      for (int j = 0; j < own.size(); j++) {
        column.putIfAbsent(own.get(j), j);
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
      return new Mapping(source, missing);
    }

    String summary(String datasetName) {
      return missing.size() + " of the job's " + source.length + " features missing at dataset '" + datasetName
          + "'" + (missing.isEmpty() ? "" : ": " + preview(missing));
    }
  }

  private static String unnamed(String datasetName, List<String> wanted) {
    return "dataset '" + datasetName + "' has no named feature columns, but the job names " + wanted.size()
        + " features; declare a table whose header names them";
  }

  private static String refusal() {
    return "; its declaration says missing_features: fail (declare missing_features: {impute: VALUE} to fill them)";
  }

  private static String imputed(Mapping mapping, MissingFeatures policy, int ownColumns) {
    return (mapping.missing().isEmpty() ? "" : "; imputed with " + policy.value()) + "; "
        + (ownColumns - (mapping.source().length - mapping.missing().size())) + " of its own columns unused";
  }

  private static DataSet select(DataSet data, int[] source, float fill) {
    return new DataSet(select(data.isEmpty() ? null : data.getFeatures(), source, fill), data.getLabels());
  }

  private static INDArray select(INDArray rows, int[] source, float fill) {
    if (rows == null || rows.rows() == 0) {
      return Nd4j.create(DataType.FLOAT, 0, source.length);
    }
    float[][] in = rows.toFloatMatrix();
    float[][] out = new float[in.length][source.length];
    for (int r = 0; r < in.length; r++) {
      for (int i = 0; i < source.length; i++) {
        out[r][i] = source[i] < 0 ? fill : in[r][source[i]];
      }
    }
    return Nd4j.create(out);
  }

  private static String preview(List<String> ids) {
    return ids.size() <= 10 ? ids.toString() : ids.subList(0, 10) + " and " + (ids.size() - 10) + " more";
  }
}
