package org.medfed.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.medfed.proto.v1.FeatureStatisticsPass;
import org.medfed.proto.v1.TrainingPlan;

class FeatureStatisticsTest {
  /** One step of a 29-bit quantizer over [-1, 1]: what 3 hospitals' secure sum resolves. */
  private static final double STEP = 2.0 / ((1L << 29) - 1);

  /**
   * Three hospitals of different sizes and case mixes; features of very different magnitudes: an
   * area near 10^3, a ratio near 0.06 with a spread of 0.007, a negative measurement, a constant and
   * an all-zero column. Both passes, with every aggregated value off by a few quantization steps,
   * give the pooled mean and standard deviation computed from all rows together.
   */
  @Test
  void twoPasses_giveThePooledMeanAndStandardDeviation_acrossMagnitudes() {
    SplittableRandom random = new SplittableRandom(7);
    double[][] centres = {{600, 0.055, -2000, 5, 0}, {1200, 0.065, -1990, 5, 0}, {900, 0.060, -2010, 5, 0}};
    double[][] spreads = {{150, 0.007, 10, 0, 0}, {400, 0.007, 10, 0, 0}, {250, 0.007, 10, 0, 0}};
    int[] sizes = {40, 250, 120};
    List<double[][]> rows = new ArrayList<>();
    for (int h = 0; h < 3; h++) {
      double[][] own = new double[sizes[h]][5];
      for (double[] row : own) {
        for (int j = 0; j < 5; j++) {
          row[j] = centres[h][j] + spreads[h][j] * gaussian(random);
        }
      }
      rows.add(own);
    }

    FeatureStatistics.Scaling scaling = run(rows, random);

    double[][] pooled = rows.stream().flatMap(java.util.Arrays::stream).toArray(double[][]::new);
    for (int j = 0; j < 3; j++) {
      double mean = 0;
      for (double[] row : pooled) {
        mean += row[j] / pooled.length;
      }
      double variance = 0;
      for (double[] row : pooled) {
        variance += (row[j] - mean) * (row[j] - mean) / pooled.length;
      }
      double sd = Math.sqrt(variance);
      assertEquals(mean, scaling.mean()[j], 1e-3 * sd, "mean of feature " + j);
      assertEquals(sd, scaling.scale()[j], 1e-3 * sd, "standard deviation of feature " + j);
    }
    // The constant is centred, and divided by a small share of its magnitude rather than by noise.
    assertEquals(5, scaling.mean()[3], 1e-5);
    assertEquals(5 * FeatureStatistics.RELATIVE_SPREAD_FLOOR, scaling.scale()[3], 1e-5);
    // All zeros stay zeros: centred at 0, divided by 1.
    assertEquals(0, scaling.mean()[4], 1e-12);
    assertEquals(1, scaling.scale()[4], 1e-6);
  }

  @Test
  void aHospitalAHundredTimesLarger_stillFitsItsUnit() {
    List<double[][]> rows = List.of(constantRows(20, 1.0), constantRows(20, 1.5), constantRows(20, 150.0));
    float[] units = FeatureStatistics.units(mean(rows.stream().map(r -> FeatureStatistics.magnitudes(moments(r)))
        .toList(), new double[] {1, 1, 1}), 3);

    for (double[][] own : rows) {
      float[] sent = FeatureStatistics.moments(moments(own), units);
      assertTrue(Math.abs(sent[0]) <= 1 && sent[1] <= 1, "sent " + sent[0] + ", " + sent[1]);
    }
    assertEquals(Math.getExponent(units[0]), Math.getExponent(units[0]) & ~0, "a power of two");
    assertEquals(units[0], Math.scalb(1f, Math.getExponent(units[0])));
  }

  @Test
  void aUnitSmallerThanTheHospitalsMagnitude_isRefusedWithTheFeature() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FeatureStatistics.moments(moments(constantRows(10, 8.0)), new float[] {4f}));

    assertTrue(e.getMessage().contains("feature 0") && e.getMessage().contains("feature_unit"), e.getMessage());
  }

  @Test
  void statisticsTask_hasTwoValuesPerFeature_andATrainingTaskItsPlansLayout() {
    TrainingPlan plan = TrainingPlan.newBuilder().setParameterCount(97).addInputShape(30).build();

    assertEquals(60, FeatureStatistics.layout(FeatureStatisticsPass.FEATURE_MOMENTS, plan).plainLength());
    assertEquals(97, FeatureStatistics.layout(FeatureStatisticsPass.FEATURE_STATISTICS_NONE, plan).plainLength());
    assertThrows(IllegalArgumentException.class, () -> FeatureStatistics.featureCount(List.of(1L, 28L, 28L)));
  }

  /** Both passes as the coordinator runs them, each aggregated value off by up to 3 quantization steps. */
  private static FeatureStatistics.Scaling run(List<double[][]> rows, SplittableRandom random) {
    List<float[]> first = rows.stream().map(r -> FeatureStatistics.magnitudes(moments(r))).toList();
    float[] units = FeatureStatistics.units(noisy(mean(first, new double[] {1, 1, 1}), random), rows.size());
    List<float[]> second = rows.stream().map(r -> FeatureStatistics.moments(moments(r), units)).toList();
    double[] weights = rows.stream().mapToDouble(r -> r.length).toArray();
    return FeatureStatistics.scaling(noisy(mean(second, weights), random), units);
  }

  private static float[] mean(List<float[]> vectors, double[] weights) {
    double[] sum = new double[vectors.get(0).length];
    double total = 0;
    for (int h = 0; h < vectors.size(); h++) {
      total += weights[h];
      for (int i = 0; i < sum.length; i++) {
        sum[i] += weights[h] * vectors.get(h)[i];
      }
    }
    float[] out = new float[sum.length];
    for (int i = 0; i < sum.length; i++) {
      out[i] = (float) (sum[i] / total);
    }
    return out;
  }

  private static float[] noisy(float[] values, SplittableRandom random) {
    float[] out = values.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] += (float) ((random.nextDouble() * 2 - 1) * 3 * STEP);
    }
    return out;
  }

  private static FeatureStatistics.Moments moments(double[][] rows) {
    int d = rows[0].length;
    double[] sums = new double[d];
    double[] squares = new double[d];
    for (double[] row : rows) {
      for (int j = 0; j < d; j++) {
        sums[j] += row[j];
        squares[j] += row[j] * row[j];
      }
    }
    return new FeatureStatistics.Moments(sums, squares, rows.length);
  }

  private static double[][] constantRows(int n, double value) {
    double[][] rows = new double[n][1];
    for (double[] row : rows) {
      row[0] = value;
    }
    return rows;
  }

  private static double gaussian(SplittableRandom random) {
    return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
  }
}
