package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.store.CheckpointStore;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;

/** A robust rule sees each hospital's update: the plaintext round no longer averages before the strategy. */
class RobustRuleEndToEndTest {
  @TempDir Path dataDir;

  @Test
  void fedMedian_withoutSecureAggregation_movesTheModelByTheCoordinateWiseMedianOfTheUpdates() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      List<RecordingTrainer> trainers = List.of(new RecordingTrainer(), new RecordingTrainer(), new RecordingTrainer());
      for (int i = 0; i < trainers.size(); i++) {
        federation.agent("hospital-" + i, Blobs.dataset("expression", 10 + i, 40, 20, 12), trainers.get(i));
      }

      String jobId = federation.submit("""
          name: robust
          dataset: expression
          model: {architecture: mlp, hidden: [8]}
          input_shape: [12]
          num_classes: 3
          rounds: 1
          min_nodes: 3
          strategy: fedmedian
          secure_aggregation: {enabled: false}
          deadlines: {selection: 30s, training: 60s, evaluation: 60s}
          """).getJobId();
      federation.watch(jobId, Duration.ofMinutes(2));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      float[] start = trainers.get(0).received.get(0);
      float[] expected = new float[start.length];
      for (int k = 0; k < start.length; k++) {
        double[] deltas = new double[trainers.size()];
        for (int i = 0; i < deltas.length; i++) {
          deltas[i] = trainers.get(i).produced.get(0)[k] - trainers.get(i).received.get(0)[k];
        }
        Arrays.sort(deltas);
        expected[k] = (float) (start[k] + deltas[1]);
      }
      GlobalModel after = new CheckpointStore(dataDir.resolve("jobs")).read(jobId, 1).orElseThrow();
      assertArrayEquals(expected, after.parameters(), 1e-6f);
    }
  }
}
