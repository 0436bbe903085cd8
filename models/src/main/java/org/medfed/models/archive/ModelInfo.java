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
 */
public record ModelInfo(int formatVersion, String jobId, String jobName, String dataset, long[] inputShape,
    int numClasses, boolean survival, List<String> features, int round) {
  /** The layout this code writes and reads; a reader refuses others instead of guessing. */
  public static final int FORMAT_VERSION = 1;

  public ModelInfo(String jobId, String jobName, String dataset, long[] inputShape, int numClasses, boolean survival,
      List<String> features, int round) {
    this(FORMAT_VERSION, jobId, jobName, dataset, inputShape, numClasses, survival, features, round);
  }

  public ModelInfo {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(jobName, "jobName");
    Objects.requireNonNull(dataset, "dataset");
    Objects.requireNonNull(inputShape, "inputShape");
    if (formatVersion != FORMAT_VERSION) {
      throw new IllegalArgumentException("model info format_version " + formatVersion + " is not supported (this"
          + " medfed reads " + FORMAT_VERSION + "); use the medfed release that downloaded the model");
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
  public boolean equals(Object o) {
    return o instanceof ModelInfo m && formatVersion == m.formatVersion && jobId.equals(m.jobId)
        && jobName.equals(m.jobName) && dataset.equals(m.dataset) && Arrays.equals(inputShape, m.inputShape)
        && numClasses == m.numClasses && survival == m.survival && features.equals(m.features) && round == m.round;
  }

  @Override
  public int hashCode() {
    return Objects.hash(jobId, round, Arrays.hashCode(inputShape));
  }

  @Override
  public String toString() {
    return "ModelInfo[job " + jobName + " (" + jobId + "), round " + round + ", dataset " + dataset + ", shape "
        + Arrays.toString(inputShape) + (survival ? ", survival" : ", " + numClasses + " classes") + ", "
        + features.size() + " named features]";
  }
}
