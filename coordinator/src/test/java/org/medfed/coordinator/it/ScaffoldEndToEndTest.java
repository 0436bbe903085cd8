package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.training.ControlVariateStore;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;

/**
 * SCAFFOLD end to end over loopback gRPC with real DL4J training, once under secure aggregation (the
 * control-variate deltas ride in the same masked sum as the model deltas) and once in the clear.
 *
 * <p>What is checked is SCAFFOLD's own invariant: with every hospital in every round and equal
 * sample counts, the server's control variate is the mean of the hospitals' (both start at zero and
 * move by the same Δc), so the corrections c − c_i the hospitals receive sum to zero, up to the
 * secure-aggregation error (3 hospitals x 2 rounds x 9.3e-6, see SecureAggregationEndToEndTest) and
 * float32 rounding. And each hospital keeps, on its own disk, c_i+ = c_i − c + (x − y)/(K·lr) of
 * the last round.
 */
class ScaffoldEndToEndTest {
  private static final int HOSPITALS = 3;
  private static final int SAMPLES = 40;
  private static final double LEARNING_RATE = 0.05;
  // One epoch of 40 samples in batches of 16.
  private static final int STEPS = 3;

  @TempDir Path dataDir;

  private static String job(String name, boolean secure) {
    return """
        name: %s
        dataset: expression
        model: {architecture: mlp, hidden: [8]}
        input_shape: [20]
        num_classes: 3
        rounds: 3
        min_nodes: 3
        local_epochs: 1
        batch_size: 16
        optimizer: sgd
        learning_rate: %s
        strategy: scaffold
        secure_aggregation: %s
        deadlines: {selection: 30s, training: 60s, evaluation: 20s}
        """.formatted(name, LEARNING_RATE, secure ? "{enabled: true, stage_deadline: 20s}" : "{enabled: false}");
  }

  @Test
  void scaffold_secureAndPlaintext_serverControlIsTheMeanOfTheHospitals_andEachKeepsItsOwnOnDisk() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      List<RecordingTrainer> trainers = new ArrayList<>();
      for (int h = 0; h < HOSPITALS; h++) {
        RecordingTrainer trainer = new RecordingTrainer();
        trainers.add(trainer);
        federation.agent(node(h), Blobs.dataset("expression", h + 1, SAMPLES, 20, 20), trainer);
      }

      for (boolean secure : new boolean[] {true, false}) {
        trainers.forEach(t -> {
          t.received.clear();
          t.produced.clear();
          t.corrections.clear();
        });
        String jobId = federation.submit(job(secure ? "scaffold-secure" : "scaffold-plain", secure)).getJobId();
        federation.watch(jobId, Duration.ofMinutes(3));
        JobDetail detail = federation.job(jobId);

        assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
        assertEquals(3, detail.getRoundsCount());
        assertTrue(detail.getRounds(2).getMetricsOrThrow("eval_accuracy") > 0.4, detail.getRounds(2).toString());
        int parameters = trainers.get(0).received.get(0).length;
        for (RecordingTrainer trainer : trainers) {
          assertEquals(3, trainer.corrections.size(), "every hospital trained every round with a correction");
          assertArrayEquals(new float[parameters], trainer.corrections.get(0), "c and c_i start at zero");
        }
        float[] lastCorrection = trainers.get(0).corrections.get(2);
        double largest = 0;
        for (float value : lastCorrection) {
          largest = Math.max(largest, Math.abs(value));
        }
        assertTrue(largest > 1e-3, "by round 3 c and c_i have moved apart; largest correction " + largest);
        for (int round = 1; round < 3; round++) {
          double worst = 0;
          for (int i = 0; i < parameters; i++) {
            double sum = 0;
            for (RecordingTrainer trainer : trainers) {
              sum += trainer.corrections.get(round)[i];
            }
            worst = Math.max(worst, Math.abs(sum));
          }
          assertTrue(worst < 1e-4, (secure ? "secure" : "plaintext") + " round " + (round + 1)
              + ": the corrections c - c_i sum to " + worst + " somewhere, not 0: c is not the mean of the c_i");
        }
        for (int h = 0; h < HOSPITALS; h++) {
          RecordingTrainer trainer = trainers.get(h);
          ControlVariateStore.Stored kept = new ControlVariateStore(federation.stateDir(node(h))).load(jobId, parameters);
          assertEquals(3, kept.round(), node(h) + " keeps the control variate of the last round");
          float[] x = trainer.received.get(2);
          float[] y = trainer.produced.get(2);
          float[] correction = trainer.corrections.get(2);
          for (int i = 0; i < parameters; i++) {
            // c_i+ = c_i - c + (x - y)/(K lr) = -(c - c_i) + (x - y)/(K lr)
            double expected = -correction[i] + (x[i] - (double) y[i]) / (STEPS * LEARNING_RATE);
            assertEquals(expected, kept.values()[i], 1e-4 * Math.max(1, Math.abs(expected)), node(h) + " c_i[" + i + "]");
          }
        }
      }
    }
  }

  private static String node(int h) {
    return "hospital-" + (char) ('a' + h);
  }
}
