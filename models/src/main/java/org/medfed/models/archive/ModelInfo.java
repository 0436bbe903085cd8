package org.medfed.models.archive;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What a hospital needs to feed a downloaded model: where it came from and the inputs it expects.
 * Travels inside the model zip as {@value ModelArchive#INFO_ENTRY}. Arrays and lists are copied.
 *
 * @param inputShape per-sample shape: {@code [features]} or {@code [channels, height, width]}
 * @param numClasses the classifier's outputs; 0 for a survival (Cox) model, which outputs one risk score
 * @param features the feature ids in input order (genes, variables); empty when inputs are positional (images)
 * @param round the federated round whose weights the zip holds
 * @param featureMean with {@code featureScale}, the z-score the model's inputs need first, (x - mean) / scale,
 *     for a job trained on the consortium's feature statistics; empty otherwise
 */
public record ModelInfo(int formatVersion, String jobId, String jobName, String dataset, long[] inputShape,
    int numClasses, boolean survival, List<String> features, int round, float[] featureMean, float[] featureScale) {
  /** The layout of a model that takes its inputs as the hospital's dataset gives them. */
  public static final int FORMAT_VERSION = 1;
  /**
   * The layout of a model whose inputs need the consortium's z-score first: a reader of version 1
   * refuses it rather than feed it unscaled features and predict wrongly without a word.
   */
  public static final int SCALED_FORMAT_VERSION = 2;

  public ModelInfo(String jobId, String jobName, String dataset, long[] inputShape, int numClasses, boolean survival,
      List<String> features, int round) {
    this(FORMAT_VERSION, jobId, jobName, dataset, inputShape, numClasses, survival, features, round, new float[0],
        new float[0]);
  }

  /** The same model info for a model whose inputs are z-scored with {@code mean} and {@code scale} first. */
  public ModelInfo withFeatureScaling(float[] mean, float[] scale) {
    return new ModelInfo(SCALED_FORMAT_VERSION, jobId, jobName, dataset, inputShape, numClasses, survival, features,
        round, mean, scale);
  }

  /** Whether inputs must be z-scored with {@link #featureMean} and {@link #featureScale} first. */
  public boolean scaled() {
    return featureMean.length > 0;
  }

  public ModelInfo {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(jobName, "jobName");
    Objects.requireNonNull(dataset, "dataset");
    Objects.requireNonNull(inputShape, "inputShape");
    if (formatVersion != FORMAT_VERSION && formatVersion != SCALED_FORMAT_VERSION) {
      throw new IllegalArgumentException("model info format_version " + formatVersion + " is not supported (this"
          + " medfed reads " + FORMAT_VERSION + " and " + SCALED_FORMAT_VERSION + "); use the medfed release that"
          + " downloaded the model");
    }
    featureMean = featureMean == null ? new float[0] : featureMean.clone();
    featureScale = featureScale == null ? new float[0] : featureScale.clone();
    if ((formatVersion == SCALED_FORMAT_VERSION) != (featureMean.length > 0) || featureMean.length != featureScale.length
        || featureMean.length > 0 && (inputShape.length != 1 || inputShape[0] != featureMean.length)) {
      throw new IllegalArgumentException("model info format_version " + formatVersion + " with " + featureMean.length
          + " feature means and " + featureScale.length + " scales for input shape " + Arrays.toString(inputShape)
          + ": a scaled model (version " + SCALED_FORMAT_VERSION + ") has one mean and scale per input feature");
    }
    if (survival ? numClasses != 0 : numClasses < 2) {
      throw new IllegalArgumentException(survival ? "a survival model has no classes, got num_classes " + numClasses
          : "num_classes must be >= 2, got " + numClasses);
    }
    features = List.copyOf(features == null ? List.of() : features);
    if (!features.isEmpty() && (inputShape.length != 1 || inputShape[0] != features.size())) {
      throw new IllegalArgumentException("model info names " + features.size() + " features for input shape "
          + Arrays.toString(inputShape));
    }
    inputShape = inputShape.clone();
  }

  @Override
  public long[] inputShape() {
    return inputShape.clone();
  }

  @Override
  public float[] featureMean() {
    return featureMean.clone();
  }

  @Override
  public float[] featureScale() {
    return featureScale.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelInfo m && formatVersion == m.formatVersion && jobId.equals(m.jobId)
        && jobName.equals(m.jobName) && dataset.equals(m.dataset) && Arrays.equals(inputShape, m.inputShape)
        && numClasses == m.numClasses && survival == m.survival && features.equals(m.features) && round == m.round
        && Arrays.equals(featureMean, m.featureMean) && Arrays.equals(featureScale, m.featureScale);
  }

  @Override
  public int hashCode() {
    return Objects.hash(jobId, round, Arrays.hashCode(inputShape));
  }

  @Override
  public String toString() {
    return "ModelInfo[job " + jobName + " (" + jobId + "), round " + round + ", dataset " + dataset + ", shape "
        + Arrays.toString(inputShape) + (survival ? ", survival" : ", " + numClasses + " classes") + ", "
        + features.size() + " named features" + (scaled() ? ", consortium z-scores" : "") + "]";
  }
}
