package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.JobSummary;

class FederatedTrainingTest {
  static final String JOB = """
      name: blobs
      dataset: expression
      model: {architecture: mlp, hidden: [16]}
      input_shape: [20]
      num_classes: 3
      rounds: 4
      min_nodes: 3
      local_epochs: 1
      batch_size: 16
      learning_rate: 0.01
      seed: 7
      deadlines: {selection: 30s, training: 60s, evaluation: 30s}
      """;

  @TempDir Path dataDir;

  @Test
  void threeHospitals_globalAccuracyRisesOverRounds() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 60, 40, 20));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, 60, 40, 20));
      federation.agent("hospital-c", Blobs.dataset("expression", 3, 60, 40, 20));

      JobSummary submitted = federation.submit(JOB);
      List<JobEvent> events = federation.watch(submitted.getJobId(), Duration.ofMinutes(3));
      JobDetail detail = federation.job(submitted.getJobId());

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(4, detail.getRoundsCount());
      double first = detail.getRounds(0).getMetricsOrThrow("eval_accuracy");
      double last = detail.getRounds(3).getMetricsOrThrow("eval_accuracy");
      assertTrue(last > first, "accuracy should rise: round 1 " + first + ", round 4 " + last);
      assertTrue(last > 0.6, "3-class accuracy after 4 rounds should beat chance clearly, got " + last);
      assertEquals(120.0, detail.getRounds(3).getMetricsOrThrow("eval_samples"));
      // Each hospital's own evaluation is kept with the round, and the round's figure is their weighted mean.
      var evaluations = detail.getRounds(3).getEvaluationsMap();
      assertEquals(List.of("hospital-a", "hospital-b", "hospital-c"), evaluations.keySet().stream().sorted().toList());
      double weighted = 0;
      for (var hospital : evaluations.values()) {
        assertEquals(40.0, hospital.getMetricsOrThrow("samples"));
        weighted += hospital.getMetricsOrThrow("accuracy") * 40 / 120;
      }
      assertEquals(last, weighted, 1e-9);
      assertEquals(List.of("hospital-a", "hospital-b", "hospital-c"),
          detail.getRounds(0).getParticipantsList().stream().sorted().toList());
      assertTrue(events.stream().anyMatch(e -> e.getPhase().equals("ROUND_COMPLETED")));
      assertEquals(JobState.SUCCEEDED, events.get(events.size() - 1).getState());
    }
  }

  @Test
  void localBaselines_eachHospitalReportsItsLocalOnlyModel_besideTheGlobal_inShow() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 60, 40, 20));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, 60, 40, 20));
      federation.agent("hospital-c", Blobs.dataset("expression", 3, 60, 40, 20));

      String jobId = federation.submit(JOB.replace("rounds: 4", "rounds: 3") + "local_baseline: true\n").getJobId();
      federation.watch(jobId, Duration.ofMinutes(3));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      var last = detail.getRounds(2);
      assertEquals(List.of("hospital-a", "hospital-b", "hospital-c"),
          last.getEvaluationsMap().keySet().stream().sorted().toList());
      double weighted = 0;
      for (var hospital : last.getEvaluationsMap().values()) {
        // Trained once per round it took part in: the same budget as its share of the federated model.
        assertEquals(3.0, hospital.getMetricsOrThrow("local_rounds"), hospital.toString());
        double local = hospital.getMetricsOrThrow("local_accuracy");
        assertTrue(local >= 0 && local <= 1, hospital.toString());
        weighted += local * 40 / 120;
      }
      assertEquals(weighted, last.getMetricsOrThrow("eval_local_accuracy"), 1e-9);

      CliRun show = CliRun.of("show", "--kit", federation.adminKit().toString(), jobId);
      assertEquals(0, show.code(), show.out());
      assertTrue(show.out().contains("(federated - local-only: accuracy "), show.out());
    }
  }

  @Test
  void patienceRunsOut_theJobStopsEarly_andKeepsAndServesItsBestRound() throws Exception {
    // No round can beat round 1 by min_delta 2 (accuracy is at most 1), so with patience 2 the job
    // ends after round 3 of 8 and keeps round 1, whatever the training does.
    String job = JOB.replace("rounds: 4", "rounds: 8")
        + "model_selection: {metric: eval_accuracy, patience: 2, min_delta: 2.0}\n";
    try (Federation federation = new Federation(dataDir)) {
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 60, 40, 20));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, 60, 40, 20));
      federation.agent("hospital-c", Blobs.dataset("expression", 3, 60, 40, 20));

      String jobId = federation.submit(job).getJobId();
      List<JobEvent> events = federation.watch(jobId, Duration.ofMinutes(3));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(3, detail.getRoundsCount());
      assertTrue(detail.getSummary().getMessage().startsWith("stopped early after round 3: eval_accuracy has not"
          + " risen by more than 2.0 for 2 rounds (patience 2); keeping round 1"), detail.getSummary().getMessage());
      assertEquals(JobState.SUCCEEDED, events.get(events.size() - 1).getState());
      assertEquals(1, detail.getSummary().getBestRound());
      assertEquals("eval_accuracy", detail.getSummary().getSelectionMetric());
      assertEquals(detail.getRounds(0).getMetricsOrThrow("eval_accuracy"), detail.getSummary().getBestValue());

      byte[] kept = federation.download(jobId, 0);
      assertArrayEquals(federation.download(jobId, 1), kept);
      assertFalse(Arrays.equals(federation.download(jobId, 3), kept), "round 3 trained on: its model differs");
    }
  }
}
