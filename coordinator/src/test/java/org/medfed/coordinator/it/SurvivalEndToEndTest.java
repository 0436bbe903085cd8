package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** A time-to-event job (linear Cox model, C-index) federated across three hospitals like any other job. */
class SurvivalEndToEndTest {
  static final String JOB = """
      name: survival
      dataset: outcomes
      model: {architecture: cox}
      input_shape: [5]
      rounds: 4
      min_nodes: 3
      local_epochs: 2
      batch_size: 16
      optimizer: adam
      learning_rate: 0.02
      seed: 3
      deadlines: {selection: 30s, training: 60s, evaluation: 30s}
      """;
  /** The true log-hazard weights: risk grows with features 0 and 2, falls with 1. */
  static final double[] BETA = {1.0, -0.8, 0.6, 0, 0};

  @TempDir Path dataDir;

  @Test
  void coxJobAcrossThreeHospitals_learnsToRankRisk_withSecureAggregation() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      for (int h = 0; h < 3; h++) {
        federation.agent("hospital-" + (char) ('a' + h), outcomes(h + 1, 120, 60));
      }

      String jobId = federation.submit(JOB).getJobId();
      federation.watch(jobId, Duration.ofMinutes(3));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      double last = detail.getRounds(3).getMetricsOrThrow("eval_c_index");
      assertTrue(last > 0.7, "C-index after 4 rounds " + last + " (0.5 is chance)");
      assertEquals(180.0, detail.getRounds(3).getMetricsOrThrow("eval_samples"));
    }
  }

  /** Exponential survival times with hazard exp(beta.x), about a third censored. */
  static LocalDataset outcomes(long seed, int train, int test) {
    return new LocalDataset("outcomes", DatasetKind.CLINICAL, new long[] {BETA.length}, List.of(),
        draw(seed, train), draw(seed + 100, test));
  }

  private static DataSet draw(long seed, int n) {
    Random random = new Random(seed);
    float[][] x = new float[n][BETA.length];
    float[][] y = new float[n][2];
    for (int i = 0; i < n; i++) {
      double logHazard = 0;
      for (int j = 0; j < BETA.length; j++) {
        x[i][j] = (float) random.nextGaussian();
        logHazard += BETA[j] * x[i][j];
      }
      double eventTime = -Math.log(random.nextDouble()) / Math.exp(logHazard);
      double censorTime = -Math.log(random.nextDouble()) * 2;
      y[i][0] = (float) Math.min(eventTime, censorTime);
      y[i][1] = eventTime <= censorTime ? 1 : 0;
    }
    return new DataSet(Nd4j.create(x), Nd4j.create(y));
  }
}
