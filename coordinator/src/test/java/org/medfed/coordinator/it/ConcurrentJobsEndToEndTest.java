package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.trust.tls.TlsFiles;

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

  @Test
  void aHospitalLostWhileARoundWaitsForIt_failsThatRoundBeforeTraining_unmaskingNoSumBelowMinNodes() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      for (int h = 0; h < 2; h++) {
        federation.agent("hospital-" + (char) ('a' + h), Blobs.dataset("expression", h + 1, 40, 20, 20));
      }
      // hospital-c crashes in the first round it trains, once the other job's round waits for it.
      CompletableFuture<Void> queued = new CompletableFuture<>();
      TlsFiles cKit = federation.kit("hospital-c");
      ManagedChannel cChannel = federation.channel(cKit, "127.0.0.1");
      federation.agent("hospital-c", Blobs.dataset("expression", 3, 40, 20, 20), new RecordingTrainer((call, corrected) -> {
        if (call == 1) {
          queued.orTimeout(60, TimeUnit.SECONDS).join();
          cChannel.shutdownNow();
          throw new IllegalStateException("hospital-c crashed");
        }
      }), cKit, cChannel);

      List<String> ids = List.of(federation.submit(job("one")).getJobId(), federation.submit(job("two")).getJobId());
      List<CompletableFuture<List<JobEvent>>> watches = ids.stream().map(id -> CompletableFuture.supplyAsync(() -> {
        List<JobEvent> events = new ArrayList<>();
        federation.admin.withDeadlineAfter(2, TimeUnit.MINUTES)
            .watchJob(GetJobRequest.newBuilder().setJobId(id).build()).forEachRemaining(event -> {
              events.add(event);
              if (event.getPhase().equals("QUEUED")) {
                queued.complete(null);
              }
            });
        return events;
      })).toList();
      List<List<JobEvent>> events = watches.stream().map(CompletableFuture::join).toList();

      int waited = phases(events.get(0), "QUEUED").isEmpty() ? 1 : 0;
      var summary = federation.job(ids.get(waited)).getSummary();
      assertEquals(JobState.FAILED, summary.getState(), summary.getMessage());
      assertTrue(summary.getMessage().contains("[hospital-c] disconnected while the round waited for busy hospitals,"
          + " leaving 2 of the selected nodes and min_nodes is 3; nothing was trained"), summary.getMessage());
      assertEquals(List.of(), phases(events.get(waited), "SECAGG_UNMASKING"), "no sum of 2 hospitals unmasked");
    }
  }
}
