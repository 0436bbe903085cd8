package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.nodeagent.privacy.PrivacyBudget;
import org.medfed.nodeagent.privacy.PrivacyLedger;
import org.medfed.proto.v1.HospitalMetrics;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;

/**
 * DP-SGD at each hospital over mutual TLS with secure aggregation: each hospital derives its own noise
 * from a target epsilon and its own records, records every round's spending in its ledger before the
 * update leaves, and reports what the job has spent there with each evaluation.
 */
class DifferentialPrivacyEndToEndTest {
  private static final String JOB = """
      name: private
      dataset: expression
      model: {architecture: mlp, hidden: [8]}
      input_shape: [20]
      num_classes: 3
      rounds: 3
      min_nodes: 3
      local_epochs: 1
      batch_size: 10
      learning_rate: 0.05
      optimizer: sgd
      seed: 7
      privacy: {dp_sgd: {epsilon: 3.0, delta: 1.0e-5, clip: 1.0}}
      deadlines: {selection: 30s, training: 60s, evaluation: 30s}
      """;

  @TempDir Path dataDir;

  @Test
  void eachHospitalSpendsAtMostTheTargetEpsilon_recordsEveryRound_andReportsItPerRound() throws Exception {
    try (Federation federation = new Federation(dataDir, CoordinatorConfig.defaults(dataDir)
        .withHttp(new InetSocketAddress("127.0.0.1", 0)))) {
      // Hospitals of different sizes derive different noise for the same target.
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 80, 20, 20));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, 40, 20, 20));
      federation.agent("hospital-c", Blobs.dataset("expression", 3, 120, 20, 20));

      String jobId = federation.submit(JOB).getJobId();
      federation.watch(jobId, Duration.ofMinutes(3));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      for (String hospital : List.of("hospital-a", "hospital-b", "hospital-c")) {
        double previous = 0;
        for (int round = 0; round < 3; round++) {
          HospitalMetrics own = detail.getRounds(round).getEvaluationsOrThrow(hospital);
          double spent = own.getMetricsOrThrow("dp_epsilon");
          assertTrue(spent > previous, hospital + " round " + (round + 1) + ": " + spent + " after " + previous);
          previous = spent;
        }
        // Calibrated to spend the whole target over the job's 3 rounds, and never more.
        assertTrue(previous <= 3.0 && previous > 2.9, hospital + " spent " + previous);
        List<PrivacyLedger.Charge> charges = new PrivacyLedger(federation.stateDir(hospital)).charges();
        assertEquals(List.of(1, 2, 3), charges.stream().map(PrivacyLedger.Charge::round).toList(), hospital);
        assertTrue(charges.stream().allMatch(c -> c.jobId().equals(jobId) && c.dataset().equals("expression")
            && c.noiseMultiplier() > 0.5));
      }
      // And on Prometheus, per job and hospital.
      String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
          + federation.coordinator.httpAddress().orElseThrow() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertTrue(metrics.lines().anyMatch(l -> l.startsWith("medfed_privacy_epsilon_spent{")
          && l.contains("hospital=\"hospital-b\"") && l.contains("job=\"" + jobId + "\"")
          && Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) > 2.9), metrics);
    }
  }

  @Test
  void aHospitalDeclinesTheRoundThatWouldPassItsBudget_theJobGoesOnWithoutIt_andASecondJobSeesTheSpending()
      throws Exception {
    String job = JOB.replace("min_nodes: 3", "min_nodes: 2");
    try (Federation federation = new Federation(dataDir)) {
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 80, 20, 20));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, 80, 20, 20),
          new PrivacyBudget(2.5, 1e-5, Duration.ofDays(365)));
      federation.agent("hospital-c", Blobs.dataset("expression", 3, 80, 20, 20));

      String first = federation.submit(job).getJobId();
      List<JobEvent> events = federation.watch(first, Duration.ofMinutes(3));
      JobDetail detail = federation.job(first);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      // The job is calibrated to spend 3 over 3 rounds: about 2.0 after round 1, which fits a budget of 2.5,
      // and more than 2.5 after round 2, which does not.
      assertEquals(List.of("hospital-a", "hospital-b", "hospital-c"), sorted(detail.getRounds(0).getParticipantsList()));
      assertEquals(List.of("hospital-a", "hospital-c"), sorted(detail.getRounds(1).getParticipantsList()));
      String reason = String.join("; ", detail.getRounds(1).getDroppedList());
      assertTrue(reason.contains("hospital-b") && reason.contains("privacy budget for 'expression' would reach epsilon = ")
          && reason.contains(" of 2.5 (365 d window"), reason);
      assertTrue(events.stream().anyMatch(e -> e.getMessage().contains("privacy budget for 'expression'")),
          "the coordinator shows the reason as the round goes");
      List<PrivacyLedger.Charge> charges = new PrivacyLedger(federation.stateDir("hospital-b")).charges();
      assertEquals(1, charges.size(), "only the round it ran is charged");

      String second = federation.submit(job.replace("name: private", "name: private-again")).getJobId();
      federation.watch(second, Duration.ofMinutes(3));
      JobDetail again = federation.job(second);
      assertEquals(JobState.SUCCEEDED, again.getSummary().getState(), again.getSummary().getMessage());
      String secondReason = String.join("; ", again.getRounds(0).getDroppedList());
      // A second job on the same dataset starts from the first one's spending.
      assertTrue(secondReason.contains("node 'hospital-b': privacy budget for 'expression'")
          && !secondReason.contains("; 0.00 spent before this round"), secondReason);
    }
  }

  private static List<String> sorted(List<String> names) {
    return names.stream().sorted().toList();
  }

  @Test
  void dpSgdForACoxModelIsRefused_sayingWhy() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> federation.submit("""
          name: cox
          dataset: survival
          model: {architecture: cox}
          input_shape: [5]
          rounds: 2
          privacy: {dp_sgd: {epsilon: 3.0}}
          """));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      assertTrue(e.getStatus().getDescription().contains("privacy.dp_sgd")
          && e.getStatus().getDescription().contains("partial likelihood couples the records"),
          e.getStatus().getDescription());
    }
  }
}
