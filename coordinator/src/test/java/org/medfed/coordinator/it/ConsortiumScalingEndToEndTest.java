package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.cli.MedfedCli;
import org.medfed.models.archive.ModelArchive;
import org.medfed.models.archive.ModelInfo;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.proto.v1.AdminModelRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * feature_scaling: consortium-zscore through real agents, mutual TLS and secure aggregation (the
 * default): features four orders of magnitude apart, each hospital with its own case mix. The
 * coordinator must end up with the pooled mean and standard deviation of every feature over all
 * hospitals' training rows, which it only ever saw summed, and the job must train on them.
 */
class ConsortiumScalingEndToEndTest {
  private static final int FEATURES = 6;
  private static final List<String> CLASSES = List.of("a", "b", "c");

  @TempDir Path dataDir;

  @Test
  void secureJob_measuresThePooledMeansAndDeviations_checkpointsThem_andTrainsOnScaledFeatures() throws Exception {
    List<LocalDataset> hospitals = List.of(skewed(1, 80, new double[] {0.7, 0.2, 0.1}),
        skewed(2, 50, new double[] {0.1, 0.8, 0.1}), skewed(3, 120, new double[] {0.2, 0.2, 0.6}));
    try (Federation federation = new Federation(dataDir)) {
      federation.agent("hospital-a", hospitals.get(0));
      federation.agent("hospital-b", hospitals.get(1));
      federation.agent("hospital-c", hospitals.get(2));

      String jobId = federation.submit(FederatedTrainingTest.JOB.replace("input_shape: [20]", "input_shape: ["
          + FEATURES + "]").replace("rounds: 4", "rounds: 3") + "feature_scaling: consortium-zscore\n").getJobId();
      List<JobEvent> events = federation.watch(jobId, Duration.ofMinutes(3));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertTrue(events.stream().anyMatch(e -> e.getPhase().equals("STATISTICS")), "no STATISTICS phase in " + events);
      var checkpoint = CrashDrill.checkpoint(dataDir, jobId, 3);
      double[] mean = checkpoint.strategyState().get("feature_scaling.mean");
      double[] scale = checkpoint.strategyState().get("feature_scaling.scale");
      double[][] pooled = pooledMoments(hospitals);
      for (int j = 0; j < FEATURES; j++) {
        double sd = pooled[1][j];
        assertEquals(pooled[0][j], mean[j], 1e-3 * sd, "feature " + j + "'s mean");
        assertEquals(sd, scale[j], 1e-3 * sd, "feature " + j + "'s standard deviation");
      }
      // The downloaded model says how its inputs must be scaled, with the checkpoint's very figures.
      Path zip = Files.write(dataDir.resolve("model.zip"), MedfedCli.downloadModel(federation.admin, jobId, 3));
      ModelInfo info = ModelArchive.read(zip).info();
      assertTrue(info.scaled(), info.toString());
      for (int j = 0; j < FEATURES; j++) {
        assertEquals((float) mean[j], info.featureMean()[j]);
        assertEquals((float) scale[j], info.featureScale()[j]);
      }
      String card = federation.admin.getModelCard(AdminModelRequest.newBuilder().setJobId(jobId).setRound(3).build())
          .getMarkdown();
      assertTrue(card.contains("feature scaling consortium-zscore"), card);
      // On features scaled alike the clusters separate: a model on raw ones spanning 1e-2..1e2 barely moves.
      double accuracy = detail.getRounds(2).getMetricsOrThrow("eval_accuracy");
      assertTrue(accuracy > 0.8, "accuracy after 3 rounds on consortium z-scores: " + accuracy);
    }
  }

  /** Gaussian clusters (centres shared by all hospitals) in class proportions of its own, column j times 10^(j-2). */
  private static LocalDataset skewed(long seed, int train, double[] classShare) {
    return new LocalDataset("expression", DatasetKind.GENOMIC, new long[] {FEATURES}, CLASSES,
        draw(seed, train, classShare), draw(seed + 1000, 40, classShare));
  }

  private static DataSet draw(long seed, int n, double[] classShare) {
    Random centres = new Random(99);
    double[][] centre = new double[CLASSES.size()][FEATURES];
    for (double[] c : centre) {
      for (int j = 0; j < FEATURES; j++) {
        c[j] = 3 * centres.nextGaussian() + 2;
      }
    }
    Random random = new Random(seed);
    float[][] x = new float[n][FEATURES];
    float[][] y = new float[n][CLASSES.size()];
    for (int i = 0; i < n; i++) {
      double u = random.nextDouble();
      int label = u < classShare[0] ? 0 : u < classShare[0] + classShare[1] ? 1 : 2;
      y[i][label] = 1;
      for (int j = 0; j < FEATURES; j++) {
        x[i][j] = (float) ((centre[label][j] + random.nextGaussian()) * Math.pow(10, j - 2));
      }
    }
    return new DataSet(Nd4j.create(x), Nd4j.create(y));
  }

  /** [mean, population standard deviation] of each feature over every hospital's training rows. */
  private static double[][] pooledMoments(List<LocalDataset> hospitals) {
    List<double[]> rows = new ArrayList<>();
    for (LocalDataset hospital : hospitals) {
      double[][] x = hospital.train().getFeatures().toDoubleMatrix();
      rows.addAll(List.of(x));
    }
    double[][] out = new double[2][FEATURES];
    for (int j = 0; j < FEATURES; j++) {
      double sum = 0;
      for (double[] row : rows) {
        sum += row[j];
      }
      double m = sum / rows.size();
      double squares = 0;
      for (double[] row : rows) {
        squares += (row[j] - m) * (row[j] - m);
      }
      out[0][j] = m;
      out[1][j] = Math.sqrt(squares / rows.size());
    }
    return out;
  }
}
