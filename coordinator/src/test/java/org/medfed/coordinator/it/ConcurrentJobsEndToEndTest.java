package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;

/**
 * Several secure jobs on the same hospitals at once, with real agents, DL4J and crypto. Before the
 * hospital schedule, each agent worked one task at a time: hospital A sat in job 1's key exchange
 * waiting for B while B sat in job 2's waiting for A, and every job's first round failed with
 * "only 1 nodes advertised keys".
 */
class ConcurrentJobsEndToEndTest {
  @TempDir Path dataDir;

  private static String job(String name) {
    return """
        name: %s
        dataset: expression
        model: {architecture: mlp, hidden: [8]}
        input_shape: [20]
        num_classes: 3
        rounds: 2
        min_nodes: 3
        local_epochs: 1
        batch_size: 16
        learning_rate: 0.01
        secure_aggregation: {enabled: true, stage_deadline: 30s}
        deadlines: {selection: 30s, training: 60s, evaluation: 30s}
        """.formatted(name);
  }

  /** Submits the jobs together and follows each to its end, all at once. */
  private static Map<String, List<JobEvent>> runTogether(Federation federation, List<String> names) {
    List<String> ids = names.stream().map(name -> federation.submit(job(name)).getJobId()).toList();
    List<CompletableFuture<List<JobEvent>>> watches = ids.stream()
        .map(id -> CompletableFuture.supplyAsync(() -> federation.watch(id, Duration.ofMinutes(4)))).toList();
    Map<String, List<JobEvent>> events = new LinkedHashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      events.put(ids.get(i), watches.get(i).join());
    }
    return events;
  }

  private static List<String> phases(List<JobEvent> events, String phase) {
    return events.stream().filter(e -> e.getPhase().equals(phase)).map(JobEvent::getMessage).toList();
  }

  @Test
  void threeSecureJobs_onTheSameThreeHospitals_allFinish_takingTurns() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      for (int h = 0; h < 3; h++) {
        federation.agent("hospital-" + (char) ('a' + h), Blobs.dataset("expression", h + 1, 40, 20, 20));
      }

      Map<String, List<JobEvent>> events = runTogether(federation, List.of("first", "second", "third"));

      List<String> queued = new ArrayList<>();
      events.forEach((id, list) -> {
        var summary = federation.job(id).getSummary();
        assertEquals(JobState.SUCCEEDED, summary.getState(), id + ": " + summary.getMessage());
        assertEquals(2, federation.job(id).getRoundsCount(), id + " counts each round once");
        queued.addAll(phases(list, "QUEUED"));
      });
      // One agent task at a time each: the rounds took turns, and a waiting job said why.
      assertTrue(queued.stream().anyMatch(m -> m.contains("hospitals busy with other rounds: hospital-a, hospital-b, hospital-c (in job ")),
          "a queued round names the busy hospital and the round holding it: " + queued);
    }
  }

  @Test
  void hospitalsRunningTwoTasks_takeTwoSecureJobsSideBySide() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      for (int h = 0; h < 3; h++) {
        federation.agent("hospital-" + (char) ('a' + h), Blobs.dataset("expression", h + 1, 40, 20, 20), 2);
      }

      Map<String, List<JobEvent>> events = runTogether(federation, List.of("left", "right"));

      events.forEach((id, list) -> {
        var summary = federation.job(id).getSummary();
        assertEquals(JobState.SUCCEEDED, summary.getState(), id + ": " + summary.getMessage());
        // Each agent ran both jobs' secure tasks at once; had it not, the key exchanges would have deadlocked.
        assertEquals(List.of(), phases(list, "QUEUED"), id + " never waited for a hospital");
      });
    }
  }
}
