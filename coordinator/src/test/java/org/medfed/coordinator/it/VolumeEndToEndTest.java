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
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The 3D networks federated through the real coordinator: three hospitals hold tiny synthetic
 * volumes ([1, 8, 8, 8], as the volume loader gives them) where a lesion is a bright cube, each
 * hospital's scanner adding its own intensity shift; small-cnn3d learns to find the lesion, and
 * cox on the same body learns that it shortens the time to an event.
 */
class VolumeEndToEndTest {
  private static final List<String> CLASSES = List.of("healthy", "lesion");
  private static final String JOB = """
      name: volumes
      dataset: brains
      model: {architecture: small-cnn3d, hidden: [16]}
      input_shape: [1, 8, 8, 8]
      num_classes: 2
      rounds: 3
      min_nodes: 3
      local_epochs: 2
      batch_size: 8
      learning_rate: 0.01
      seed: 7
      deadlines: {selection: 30s, training: 60s, evaluation: 30s}
      """;

  @TempDir Path dataDir;

  @Test
  void smallCnn3d_threeHospitalsWithVolumes_trainsFederated_andFindsTheLesion() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      federation.agent("hospital-a", volumes(1, -0.3f));
      federation.agent("hospital-b", volumes(2, 0f));
      federation.agent("hospital-c", volumes(3, 0.4f));

      String jobId = federation.submit(JOB).getJobId();
      federation.watch(jobId, Duration.ofMinutes(2));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(3, detail.getRoundsCount());
      assertEquals(60.0, detail.getRounds(2).getMetricsOrThrow("eval_samples"));
      double accuracy = detail.getRounds(2).getMetricsOrThrow("eval_accuracy");
      assertTrue(accuracy > 0.75, "a bright 3x3x3 lesion should be found well above chance, got " + accuracy);
    }
  }

  @Test
  void cox_onVolumes_threeHospitals_trainsFederated_andRanksTheLesionsAsHigherRisk() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      federation.agent("hospital-a", survivalVolumes(1, -0.3f));
      federation.agent("hospital-b", survivalVolumes(2, 0f));
      federation.agent("hospital-c", survivalVolumes(3, 0.4f));

      String jobId = federation.submit(JOB.replace("small-cnn3d", "cox").replace("num_classes: 2\n", "")).getJobId();
      federation.watch(jobId, Duration.ofMinutes(2));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      double cIndex = detail.getRounds(2).getMetricsOrThrow("eval_c_index");
      assertTrue(cIndex > 0.7, "volumes with a lesion fail sooner, so their risk should rank higher; C-index " + cIndex);
    }
  }

  private static LocalDataset volumes(long seed, float scannerShift) {
    return new LocalDataset("brains", DatasetKind.IMAGING, new long[] {1, 8, 8, 8}, CLASSES,
        draw(seed, 40, scannerShift, false), draw(seed + 1000, 20, scannerShift, false));
  }

  /** The same volumes labelled [time, event]: a lesion halves the expected time, a quarter of the cases censored. */
  private static LocalDataset survivalVolumes(long seed, float scannerShift) {
    return new LocalDataset("brains", DatasetKind.IMAGING, new long[] {1, 8, 8, 8}, List.of(),
        draw(seed, 40, scannerShift, true), draw(seed + 1000, 20, scannerShift, true));
  }

  private static DataSet draw(long seed, int n, float shift, boolean survival) {
    Random random = new Random(seed);
    float[] x = new float[n * 512];
    float[][] y = new float[n][2];
    for (int i = 0; i < n; i++) {
      int label = random.nextInt(2);
      if (survival) {
        y[i][0] = (float) ((label == 1 ? 10 : 20) * (0.75 + 0.5 * random.nextDouble()));
        y[i][1] = random.nextDouble() < 0.75 ? 1 : 0;
      } else {
        y[i][label] = 1;
      }
      for (int z = 0; z < 8; z++) {
        for (int h = 0; h < 8; h++) {
          for (int w = 0; w < 8; w++) {
            x[i * 512 + (z * 8 + h) * 8 + w] = shift + (float) (0.5 * random.nextGaussian());
          }
        }
      }
      if (label == 1) {
        int z0 = 1 + random.nextInt(4);
        int h0 = 1 + random.nextInt(4);
        int w0 = 1 + random.nextInt(4);
        for (int z = z0; z < z0 + 3; z++) {
          for (int h = h0; h < h0 + 3; h++) {
            for (int w = w0; w < w0 + 3; w++) {
              x[i * 512 + (z * 8 + h) * 8 + w] += 2f;
            }
          }
        }
      }
    }
    return new DataSet(Nd4j.create(x, new long[] {n, 1, 8, 8, 8}, DataType.FLOAT), Nd4j.create(y));
  }
}
