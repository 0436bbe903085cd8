package org.medfed.wire;

import java.util.Arrays;
import java.util.List;
import org.medfed.proto.v1.FeatureStatisticsPass;
import org.medfed.proto.v1.TrainingPlan;

/**
 * The consortium's feature means and standard deviations, measured through the job's aggregation
 * (secure by default) so that the coordinator learns pooled figures and never one hospital's. Both
 * sides compute from here: each hospital its contribution, the coordinator the result.
 *
 * <p>A secure sum quantizes values in [-1, 1] to about 29 bits. Feature magnitudes span orders of
 * magnitude (an area near 10^3, a ratio near 10^-2), so the raw moments would lose a small feature
 * to the quantization step or clip a large one. Hence two passes:
 *
 * <ol>
 *   <li>{@link FeatureStatisticsPass#FEATURE_MAGNITUDE}: each hospital sends, for each feature, its
 *       log2 root-mean-square l and l², both over {@value #LOG2_RANGE}, with every hospital weighted
 *       alike. From the mean and spread of l over the n hospitals the coordinator bounds the largest
 *       l of any of them (a value lies at most sqrt(n - 1) population standard deviations from the
 *       mean) and takes the power of two above it as the feature's unit;
 *   <li>{@link FeatureStatisticsPass#FEATURE_MOMENTS}: each hospital sends each feature's mean and
 *       mean square in that unit, both within [-1, 1] by construction, sample-weighted. Their pooled
 *       means give the pooled mean and the pooled (population) variance.
 * </ol>
 *
 * The layout is an update's, {@link UpdateLayout}, with one vector of 2 × features values.
 */
public final class FeatureStatistics {
  /** Task tensor of pass 2: each feature's unit, a power of two. */
  public static final String UNIT = "feature_unit";
  /** Task tensor of every round of a consortium_zscore job: the pooled mean of each feature. */
  public static final String MEAN = "feature_mean";
  /** Task tensor of every round of a consortium_zscore job: what each centred feature is divided by. */
  public static final String SCALE = "feature_scale";
  /** The quantizer's clip for both passes: every value sent is within it. */
  public static final double CLIP = 1.0;
  /** log2 magnitudes are sent over this, so that any float's (2^-149 .. 2^128) fits the clip. */
  static final double LOG2_RANGE = 256;
  /** A magnitude of exactly zero counts as this log2, so that an all-zero feature stays finite. */
  static final double LOG2_FLOOR = -149;
  /**
   * A spread below this share of a feature's root-mean-square is indistinguishable from the
   * quantization's noise: the feature counts as constant and is divided by this share of its
   * magnitude instead, which leaves its centred values near zero.
   */
  static final double RELATIVE_SPREAD_FLOOR = 1e-3;

  private FeatureStatistics() {}

  /** The layout of one pass's contribution over {@code features} features: [first..., second...]. */
  public static UpdateLayout layout(int features) {
    return new UpdateLayout(2 * features, List.of(UpdateLayout.DELTA));
  }

  /** The layout of a task's update: a statistics pass's, or else the training plan's. */
  public static UpdateLayout layout(FeatureStatisticsPass pass, TrainingPlan plan) {
    if (pass == FeatureStatisticsPass.FEATURE_STATISTICS_NONE) {
      return UpdateLayout.of(plan);
    }
    return layout(featureCount(plan.getInputShapeList()));
  }

  /** The number of features a job with consortium z-scores reads: its input shape must be [features]. */
  public static int featureCount(List<Long> inputShape) {
    if (inputShape.size() != 1 || inputShape.get(0) < 1 || inputShape.get(0) > Integer.MAX_VALUE / 2) {
      throw new IllegalArgumentException("consortium z-scores need a feature table, input shape [features], got "
          + inputShape);
    }
    return (int) (long) inputShape.get(0);
  }

  /**
   * What one hospital knows of its training features: per-feature sums and sums of squares over
   * its {@code samples} rows.
   */
  public record Moments(double[] sums, double[] squares, long samples) {
    public Moments {
      if (sums.length != squares.length) {
        throw new IllegalArgumentException(sums.length + " sums for " + squares.length + " sums of squares");
      }
      if (samples < 1) {
        throw new IllegalArgumentException("feature statistics need at least one training sample, got " + samples);
      }
      sums = sums.clone();
      squares = squares.clone();
    }

    public int features() {
      return sums.length;
    }
  }

  /** Pass 1 at one hospital: [l_j / R..., (l_j / R)²...] with l_j = log2 of feature j's root-mean-square. */
  public static float[] magnitudes(Moments own) {
    int d = own.features();
    float[] out = new float[2 * d];
    for (int j = 0; j < d; j++) {
      double rms = Math.sqrt(own.squares()[j] / own.samples());
      double log2 = rms > 0 ? Math.max(LOG2_FLOOR, Math.log(rms) / Math.log(2)) : LOG2_FLOOR;
      if (!Double.isFinite(log2)) {
        throw new IllegalArgumentException("feature " + j + " has a non-finite magnitude (" + rms + ")");
      }
      out[j] = (float) (log2 / LOG2_RANGE);
      out[d + j] = (float) ((log2 / LOG2_RANGE) * (log2 / LOG2_RANGE));
    }
    return out;
  }

  /**
   * Each feature's unit from pass 1's mean over {@code hospitals} hospitals: the power of two above
   * the largest log2 magnitude any of them can have, plus one for the quantization's error.
   */
  public static float[] units(float[] magnitudeMeans, int hospitals) {
    int d = half(magnitudeMeans);
    float[] units = new float[d];
    for (int j = 0; j < d; j++) {
      double mean = magnitudeMeans[j] * LOG2_RANGE;
      double variance = Math.max(0, magnitudeMeans[d + j] * LOG2_RANGE * LOG2_RANGE - mean * mean);
      double largest = mean + Math.sqrt(Math.max(0, hospitals - 1) * variance);
      int exponent = (int) Math.ceil(largest) + 1;
      // Within float's normal range, so that the unit and its square are exact powers of two.
      units[j] = (float) Math.scalb(1.0, Math.max(-60, Math.min(60, exponent)));
    }
    return units;
  }

  /**
   * Pass 2 at one hospital: [mean(x_j) / u_j..., mean(x_j²) / u_j²...].
   *
   * @throws IllegalArgumentException if a value falls outside [-1, 1]: the unit is too small for this
   *     hospital, which pass 1 rules out, so the coordinator's units are wrong
   */
  public static float[] moments(Moments own, float[] units) {
    int d = own.features();
    if (units.length != d) {
      throw new IllegalArgumentException("the task's " + UNIT + " has " + units.length + " values for " + d
          + " features");
    }
    float[] out = new float[2 * d];
    for (int j = 0; j < d; j++) {
      double unit = units[j];
      double mean = own.sums()[j] / own.samples() / unit;
      double square = own.squares()[j] / own.samples() / (unit * unit);
      if (!(Math.abs(mean) <= CLIP && square <= CLIP)) {
        throw new IllegalArgumentException("feature " + j + "'s mean square in units of " + unit + " is " + square
            + ", beyond the statistics pass's range; the coordinator's " + UNIT + " is smaller than this hospital's"
            + " magnitude, which its first pass rules out");
      }
      out[j] = (float) mean;
      out[d + j] = (float) square;
    }
    return out;
  }

  /** The z-score the consortium's features get: x' = (x - mean) / scale. */
  public record Scaling(float[] mean, float[] scale) {
    public Scaling {
      if (mean.length != scale.length) {
        throw new IllegalArgumentException(mean.length + " means for " + scale.length + " scales");
      }
      for (int j = 0; j < scale.length; j++) {
        if (!Float.isFinite(mean[j]) || !(scale[j] > 0) || !Float.isFinite(scale[j])) {
          throw new IllegalArgumentException("feature " + j + " has mean " + mean[j] + " and scale " + scale[j]
              + "; a z-score needs a finite mean and a positive finite scale");
        }
      }
      mean = mean.clone();
      scale = scale.clone();
    }

    @Override
    public float[] mean() {
      return mean.clone();
    }

    @Override
    public float[] scale() {
      return scale.clone();
    }

    public int features() {
      return mean.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Scaling s && Arrays.equals(mean, s.mean) && Arrays.equals(scale, s.scale);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(mean) + Arrays.hashCode(scale);
    }

    @Override
    public String toString() {
      return "Scaling[" + mean.length + " features]";
    }
  }

  /** The pooled z-score from pass 2's sample-weighted means and the units it was sent in. */
  public static Scaling scaling(float[] momentMeans, float[] units) {
    int d = half(momentMeans);
    if (units.length != d) {
      throw new IllegalArgumentException(units.length + " units for " + d + " features");
    }
    float[] mean = new float[d];
    float[] scale = new float[d];
    for (int j = 0; j < d; j++) {
      double unit = units[j];
      double m = momentMeans[j];
      double square = Math.max(0, momentMeans[d + j]);
      double spread = Math.sqrt(Math.max(0, square - m * m));
      double floor = RELATIVE_SPREAD_FLOOR * Math.sqrt(square);
      mean[j] = (float) (m * unit);
      scale[j] = (float) ((spread > floor ? spread : floor > 0 ? floor : 1.0 / unit) * unit);
    }
    return new Scaling(mean, scale);
  }

  private static int half(float[] values) {
    if (values.length % 2 != 0) {
      throw new IllegalArgumentException("a statistics vector holds two values per feature, got " + values.length);
    }
    return values.length / 2;
  }
}
