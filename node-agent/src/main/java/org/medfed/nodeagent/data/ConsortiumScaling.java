package org.medfed.nodeagent.data;

import java.util.Arrays;
import org.medfed.wire.FeatureStatistics;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A hospital's side of a consortium_zscore job: what it contributes to the feature-statistics passes
 * (its training split's moments, which never leave it in the clear under secure aggregation), and
 * its dataset scaled with the consortium's pooled means and standard deviations.
 */
public final class ConsortiumScaling {
  private ConsortiumScaling() {}

  /** Per-feature sums and sums of squares of the training split, in double precision. */
  public static FeatureStatistics.Moments moments(LocalDataset dataset) {
    if (dataset.inputShape().length != 1) {
      throw new IllegalArgumentException("dataset '" + dataset.name() + "' has input shape "
          + Arrays.toString(dataset.inputShape()) + "; consortium z-scores need a feature table");
    }
    INDArray features = dataset.train().getFeatures().castTo(DataType.DOUBLE);
    double[] sums = features.sum(0).toDoubleVector();
    double[] squares = features.mul(features).sum(0).toDoubleVector();
    return new FeatureStatistics.Moments(sums, squares, features.rows());
  }

  /** Both splits as (x - mean) / scale, column by column. */
  public static LocalDataset apply(LocalDataset dataset, FeatureStatistics.Scaling scaling) {
    long[] shape = dataset.inputShape();
    if (shape.length != 1 || shape[0] != scaling.features()) {
      throw new IllegalArgumentException("the consortium's scaling has " + scaling.features() + " features but dataset '"
          + dataset.name() + "' has input shape " + Arrays.toString(shape));
    }
    return new LocalDataset(dataset.name(), dataset.kind(), shape, dataset.classes(),
        scaled(dataset.train(), scaling), scaled(dataset.test(), scaling), dataset.featureNames());
  }

  private static DataSet scaled(DataSet data, FeatureStatistics.Scaling scaling) {
    if (data.isEmpty() || data.numExamples() == 0) {
      return data;
    }
    return new DataSet(apply(data.getFeatures(), scaling), data.getLabels());
  }

  /** Rows of features, [samples, features], as (x - mean) / scale: a new array. */
  public static INDArray apply(INDArray features, FeatureStatistics.Scaling scaling) {
    if (features.rank() != 2 || features.columns() != scaling.features()) {
      throw new IllegalArgumentException("the consortium's scaling has " + scaling.features() + " features but the"
          + " inputs have shape " + Arrays.toString(features.shape()));
    }
    INDArray mean = Nd4j.createFromArray(scaling.mean()).reshape(1, scaling.features()).castTo(features.dataType());
    INDArray scale = Nd4j.createFromArray(scaling.scale()).reshape(1, scaling.features()).castTo(features.dataType());
    return features.subRowVector(mean).divRowVector(scale);
  }
}
