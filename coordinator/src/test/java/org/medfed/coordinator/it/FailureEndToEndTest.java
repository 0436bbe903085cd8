package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.nodeagent.training.TrainingPlan;
import org.medfed.proto.v1.AgentMessage;
import org.medfed.proto.v1.ApprovalState;
import org.medfed.proto.v1.CoordinatorMessage;
import org.medfed.proto.v1.DatasetDescriptor;
import org.medfed.proto.v1.DatasetKind;
import org.medfed.proto.v1.FederationServiceGrpc;
import org.medfed.proto.v1.Hello;
import org.medfed.proto.v1.JobDecision;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.SecAggKeys;
import org.medfed.proto.v1.TrainTask;
import org.medfed.proto.v1.UpdateUploadMessage;
import org.medfed.proto.v1.UploadHeader;
import org.medfed.proto.v1.UploadReceipt;
import org.medfed.trust.tls.TlsFiles;
import org.medfed.wire.ChunkedPayload;
import org.medfed.wire.ProtocolVersion;
import org.medfed.wire.Tensors;

/** Bad inputs and broken hospitals, end to end: every case ends with a clear message and no hang. */
class FailureEndToEndTest {
  static final String JOB = """
      name: robust
      dataset: expression
      model: {architecture: mlp, hidden: [8]}
      input_shape: [20]
      num_classes: 3
      rounds: %d
      min_nodes: %d
      local_epochs: 1
      batch_size: 16
      learning_rate: 0.01
      secure_aggregation: false   # these cases check plaintext validation; SecureAggregationEndToEndTest covers masks
      deadlines: {selection: 20s, training: %ds, evaluation: 6s}
      """;

  /** Secure aggregation on (the default) with short stage deadlines; rounds and round_retries to fill in. */
  static final String SECURE_JOB = """
      name: hung
      dataset: expression
      model: {architecture: mlp, hidden: [8]}
      input_shape: [20]
      num_classes: 3
      rounds: %d
      min_nodes: 2
      round_retries: %d
      batch_size: 16
      learning_rate: 0.01
      secure_aggregation: {stage_deadline: 2s}
      deadlines: {selection: 20s, training: 10s, evaluation: 6s}
      """;

  @TempDir Path dataDir;

  @Test
  void agentKilledMidRound_roundCompletesWithTheOthers_whenMinNodesRemain() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      startThreeWithCrashingC(federation);

      String jobId = federation.submit(JOB.formatted(3, 2, 60)).getJobId();
      federation.watch(jobId, Duration.ofMinutes(2));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(List.of("hospital-a", "hospital-b"), detail.getRounds(1).getParticipantsList().stream().sorted().toList());
      // Dropped because the session closed, not at the 60 s training deadline (that reason would say so).
      assertTrue(detail.getRounds(1).getDropped(0).startsWith("hospital-c: node 'hospital-c' disconnected"),
          detail.getRounds(1).getDroppedList().toString());
    }
  }

  @Test
  void agentKilledMidRound_jobFailsNamingTheMissingNode_whenTooFewRemain() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      startThreeWithCrashingC(federation);

      String jobId = federation.submit(JOB.formatted(3, 3, 60)).getJobId();
      List<JobEvent> events = federation.watch(jobId, Duration.ofMinutes(2));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.FAILED, detail.getSummary().getState());
      String message = detail.getSummary().getMessage();
      String prefix = "round 2: only 2 of 3 selected nodes could return an accepted update and min_nodes is 3; "
          + "missing: hospital-c (node 'hospital-c' disconnected)";
      assertTrue(message.startsWith(prefix), message);
      // The round gives up the moment c is lost. Whichever of a and b had not answered yet is named as
      // no longer waited for; when both had answered first there is no such list. Timing decides which,
      // but nobody else is ever named.
      String rest = message.substring(prefix.length());
      if (!rest.isEmpty()) {
        assertTrue(rest.startsWith("; stopped waiting for "), message);
        List<String> abandoned = List.of(rest.substring("; stopped waiting for ".length())
            .replaceAll("[\\[\\]]", "").split(", "));
        assertTrue(List.of("hospital-a", "hospital-b").containsAll(abandoned), message);
      }
      assertEquals(JobState.FAILED, events.get(events.size() - 1).getState());
      assertEquals(1, detail.getRoundsCount());
    }
  }

  @Test
  void silentNode_isDroppedAtTheTrainingDeadline() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      startHospitalsAAndB(federation);
      // Connected and announcing the dataset, but never answering a task.
      RogueAgent silent = RogueAgent.connect(federation.channel("hospital-silent"), "hospital-silent", task -> { });

      String jobId = federation.submit(JOB.formatted(1, 2, 3)).getJobId();
      federation.watch(jobId, Duration.ofMinutes(1));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(List.of("hospital-silent: no training result before the 3 s deadline"),
          detail.getRounds(0).getDroppedList());
      silent.close();
    }
  }

  @Test
  void hungNodeUnderSecureAggregation_isDroppedAtTheStageDeadline_andTheRoundGoesOn() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      RogueAgent hung = startTwoAndAHungNode(federation);

      String jobId = federation.submit(SECURE_JOB.formatted(1, 0)).getJobId();
      long started = System.nanoTime();
      federation.watch(jobId, Duration.ofMinutes(1));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(List.of("hospital-a", "hospital-b"), detail.getRounds(0).getParticipantsList().stream().sorted()
          .toList());
      assertEquals(List.of("hospital-hung: no advertise keys message before its 2 s deadline"
          + " (secure aggregation: advertise keys)"),
          detail.getRounds(0).getDroppedList());
      assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) < 30,
          "the hung node held the round only until its stage deadline");
      hung.close();
    }
  }

  @Test
  void roundKeysNotSignedByTheNodesOwnCertificate_areRefused_andTheRoundGoesOn() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      // Holds a valid hospital certificate, but advertises keys without signing them.
      RogueAgent forger = startTwoAndARogue(federation, "hospital-forger", (self, task) -> self.send(
          AgentMessage.newBuilder().setSecaggKeys(SecAggKeys.newBuilder().setTaskId(task.getTaskId())
              .setEncryptionKey(ByteString.copyFrom(new byte[32])).setMaskingKey(ByteString.copyFrom(new byte[32])))
              .build()));

      String jobId = federation.submit(SECURE_JOB.formatted(1, 0)).getJobId();
      federation.watch(jobId, Duration.ofMinutes(1));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(List.of("hospital-a", "hospital-b"), detail.getRounds(0).getParticipantsList().stream().sorted()
          .toList());
      assertEquals(List.of("hospital-forger: its round keys were refused: unsigned: no certificate or signature came"
          + " with it (secure aggregation: advertise keys)"), detail.getRounds(0).getDroppedList());
      forger.close();
    }
  }

  @Test
  void divergedTrainingUnderSecureAggregation_sendsNothing_andTheRoundGoesOnWithoutIt() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      startHospitalsAAndB(federation);
      // Real training whose result then diverges, as with too high a learning rate.
      federation.agent("hospital-c", Blobs.dataset("expression", 3, 40, 20, 20), new LocalTrainer() {
        private final Dl4jTrainer dl4j = new Dl4jTrainer();

        @Override
        public Trained train(TrainingPlan plan, float[] global, LocalDataset dataset, CancellationToken cancel) {
          Trained trained = dl4j.train(plan, global, dataset, cancel);
          float[] diverged = trained.parameters();
          diverged[7] = Float.POSITIVE_INFINITY;
          return new Trained(diverged, trained.numSamples(), trained.metrics());
        }

        @Override
        public Evaluated evaluate(TrainingPlan plan, float[] parameters, LocalDataset dataset) {
          return dl4j.evaluate(plan, parameters, dataset);
        }
      });

      String jobId = federation.submit(SECURE_JOB.formatted(1, 0)).getJobId();
      federation.watch(jobId, Duration.ofMinutes(1));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(List.of("hospital-a", "hospital-b"), detail.getRounds(0).getParticipantsList().stream().sorted()
          .toList());
      assertEquals(1, detail.getRounds(0).getDroppedCount(), detail.getRounds(0).getDroppedList().toString());
      String reason = detail.getRounds(0).getDropped(0);
      assertTrue(reason.startsWith("hospital-c: ") && reason.contains("local training produced a non-finite delta at"
          + " parameter 7; nothing was sent (lower the learning rate)"), reason);
    }
  }

  @Test
  void failedRound_isRetriedByTheJobsPolicy_thenTheJobStopsNamingTheRetries() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      RogueAgent hung = startTwoAndAHungNode(federation);

      // min_nodes 3 with one hung node: every attempt fails at the key-advertising deadline.
      String jobId = federation.submit(SECURE_JOB.replace("min_nodes: 2", "min_nodes: 3").formatted(1, 2))
          .getJobId();
      List<JobEvent> events = federation.watch(jobId, Duration.ofMinutes(2));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.FAILED, detail.getSummary().getState());
      assertEquals(2, events.stream().filter(e -> e.getPhase().equals("ROUND_RETRY")).count());
      assertTrue(detail.getSummary().getMessage().contains("(after 2 retries)"), detail.getSummary().getMessage());
      assertTrue(detail.getSummary().getMessage().contains("hospital-hung"), detail.getSummary().getMessage());
      hung.close();
    }
  }

  @Test
  void agentKilledAndRestarted_rejoinsAtALaterRound() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      startHospitalsAAndB(federation);
      NodeAgent c = federation.agent("hospital-c", Blobs.dataset("expression", 3, 40, 20, 20));
      // min_nodes 3: the rounds after c dies wait for it (a round it dies in is retried).
      String jobId = federation.submit(SECURE_JOB.replace("min_nodes: 2", "min_nodes: 3").formatted(4, 2))
          .getJobId();

      awaitRounds(federation, jobId, 1);
      c.close();
      federation.agent("hospital-c", Blobs.dataset("expression", 3, 40, 20, 20));
      federation.watch(jobId, Duration.ofMinutes(2));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertTrue(detail.getRounds(3).getParticipantsList().contains("hospital-c"),
          "the restarted agent takes part again: " + detail.getRoundsList());
    }
  }

  /** Hospitals a and b train normally; 'hospital-hung' keeps its session open and approves, but never answers. */
  private static RogueAgent startTwoAndAHungNode(Federation federation) throws Exception {
    return startTwoAndARogue(federation, "hospital-hung", (self, task) -> { });
  }

  /** Two hospitals that train normally, on different data. */
  private static void startHospitalsAAndB(Federation federation) {
    federation.agent("hospital-a", Blobs.dataset("expression", 1, 40, 20, 20));
    federation.agent("hospital-b", Blobs.dataset("expression", 2, 40, 20, 20));
  }

  /** Hospitals a and b training normally, and a node that answers each training task with {@code onTrain}. */
  private static RogueAgent startTwoAndARogue(Federation federation, String rogueId,
      BiConsumer<RogueAgent, TrainTask> onTrain) throws Exception {
    startHospitalsAAndB(federation);
    AtomicReference<RogueAgent> rogue = new AtomicReference<>();
    rogue.set(RogueAgent.connect(federation.channel(rogueId), rogueId, task -> onTrain.accept(rogue.get(), task)));
    return rogue.get();
  }

  private static void awaitRounds(Federation federation, String jobId, int rounds) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (federation.job(jobId).getRoundsCount() < rounds) {
      assertTrue(System.nanoTime() < until, "no round completed within a minute");
      Thread.sleep(100);
    }
  }

  @Test
  void nanAndWrongLengthUpdates_areRejectedReportedAndNotAggregated() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      startHospitalsAAndB(federation);
      CompletableFuture<Status> nanAnswer = new CompletableFuture<>();
      CompletableFuture<Status> shortAnswer = new CompletableFuture<>();
      RogueAgent nan = RogueAgent.connect(federation.channel("hospital-nan"), "hospital-nan", task -> {
        float[] update = new float[(int) task.getPlan().getParameterCount()];
        update[5] = Float.NaN;
        nanAnswer.complete(RogueAgent.upload(federation.channel("hospital-nan"), task.getTaskId(), update));
      });
      RogueAgent wrongLength = RogueAgent.connect(federation.channel("hospital-short"), "hospital-short", task ->
          shortAnswer.complete(RogueAgent.upload(federation.channel("hospital-short"), task.getTaskId(), new float[] {1f, 2f, 3f})));

      String jobId = federation.submit(JOB.formatted(1, 2, 30)).getJobId();
      List<JobEvent> events = federation.watch(jobId, Duration.ofMinutes(1));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(List.of("hospital-a", "hospital-b"), detail.getRounds(0).getParticipantsList().stream().sorted().toList());
      assertEquals(Status.Code.INVALID_ARGUMENT, nanAnswer.get(10, TimeUnit.SECONDS).getCode());
      assertTrue(nanAnswer.get().getDescription().contains("update contains NaN at index 5"), nanAnswer.get().getDescription());
      assertEquals(Status.Code.INVALID_ARGUMENT, shortAnswer.get(10, TimeUnit.SECONDS).getCode());
      List<String> dropped = detail.getRounds(0).getDroppedList().stream().sorted().toList();
      assertTrue(dropped.get(0).startsWith("hospital-nan: update rejected (update contains NaN at index 5"), dropped.get(0));
      assertTrue(dropped.get(1).startsWith("hospital-short: update rejected (update has 3 values but the model has "),
          dropped.get(1));
      assertTrue(events.stream().anyMatch(e -> e.getMessage().contains("hospital-nan': update rejected")));
      nan.close();
      wrongLength.close();
    }
  }

  @Test
  void uploadForATaskThatWasNeverIssued_isRefused() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      Status answer = RogueAgent.upload(federation.channel("hospital-x"), "made-up-task", new float[] {1f});

      assertEquals(Status.Code.FAILED_PRECONDITION, answer.getCode());
      assertTrue(answer.getDescription().contains("not issued to a selected node"), answer.getDescription());
    }
  }

  @Test
  void malformedJobFile_isInvalidArgumentNamingTheField() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> federation.submit(JOB.formatted(0, 2, 30)));

      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      assertEquals("job field 'rounds': must be in 1..100000, got 0", e.getStatus().getDescription());
    }
  }

  @Test
  void incompatibleProtocolVersion_isRefusedListingSupportedVersions() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      CompletableFuture<Status> closed = new CompletableFuture<>();
      StreamObserver<AgentMessage> session = FederationServiceGrpc.newStub(federation.channel("hospital-future"))
          .connect(RogueAgent.observer(message -> { }, closed));
      session.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setProtocolVersion(99)
          .setNodeId("hospital-future")).build());

      Status status = closed.get(10, TimeUnit.SECONDS);

      assertEquals(Status.Code.FAILED_PRECONDITION, status.getCode());
      assertEquals("protocol version 99 is not supported; this coordinator supports versions [4]; install an "
          + "agent release that speaks one of them", status.getDescription());
    }
  }

  @Test
  void taskForMismatchedInputShape_isDeclinedWithReasonAndTheRoundGoesOn() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      startHospitalsAAndB(federation);
      NodeAgent odd = federation.agent("hospital-odd", Blobs.dataset("expression", 3, 40, 20, 12));

      String jobId = federation.submit(JOB.formatted(1, 2, 30)).getJobId();
      federation.watch(jobId, Duration.ofMinutes(1));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(List.of("hospital-odd: declined (job expects input shape [20] but dataset 'expression' at node "
          + "'hospital-odd' has shape [12])"), detail.getRounds(0).getDroppedList());
      assertTrue(odd.stopped().getNow("running").equals("running"));
    }
  }

  /** Hospitals a and b train normally; c's process "dies" while training in round 2, without a goodbye. */
  private static void startThreeWithCrashingC(Federation federation) {
    startHospitalsAAndB(federation);
    TlsFiles cKit = federation.kit("hospital-c");
    ManagedChannel cChannel = federation.channel(cKit, "127.0.0.1");
    federation.agent("hospital-c", Blobs.dataset("expression", 3, 40, 20, 20),
        new RecordingTrainer((call, corrected) -> killOnSecondRound(call, cChannel)), cKit, cChannel);
  }

  private static void killOnSecondRound(int call, ManagedChannel channel) {
    if (call == 2) {
      channel.shutdownNow();
      throw new IllegalStateException("hospital-c crashed");
    }
  }

  /** A hand-driven agent for hostile or broken behaviour that the real agent never shows. */
  static final class RogueAgent implements AutoCloseable {
    private final StreamObserver<AgentMessage> session;
    private final ManagedChannel channel;
    /** Held while writing to the session: gRPC stream observers are not thread-safe. */
    private final Object sending;

    private RogueAgent(StreamObserver<AgentMessage> session, ManagedChannel channel, Object sending) {
      this.session = session;
      this.channel = channel;
      this.sending = sending;
    }

    void send(AgentMessage message) {
      synchronized (sending) {
        session.onNext(message);
      }
    }

    static RogueAgent connect(ManagedChannel channel, String nodeId, Consumer<TrainTask> onTrain)
        throws Exception {
      CompletableFuture<Void> welcomed = new CompletableFuture<>();
      AtomicReference<StreamObserver<AgentMessage>> self = new AtomicReference<>();
      StreamObserver<AgentMessage> session = FederationServiceGrpc.newStub(channel).connect(observer(message -> {
        if (message.hasWelcome()) {
          welcomed.complete(null);
        } else if (message.hasProposal()) {
          // A rogue agent approves every job it is offered.
          synchronized (self) {
            self.get().onNext(AgentMessage.newBuilder().setDecision(JobDecision.newBuilder()
                .setJobId(message.getProposal().getJobId()).setDigest(message.getProposal().getDigest())
                .setState(ApprovalState.APPROVAL_APPROVED)).build());
          }
        } else if (message.hasTrain()) {
          CompletableFuture.runAsync(() -> onTrain.accept(message.getTrain()));
        }
      }, new CompletableFuture<>()));
      self.set(session);
      synchronized (self) {
        session.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT).setNodeId(nodeId)
          .addDatasets(DatasetDescriptor.newBuilder().setName("expression").setKind(DatasetKind.GENOMIC)
              .setTrainSamples(40).setTestSamples(20).addInputShape(20).addAllClasses(Blobs.CLASSES))).build());
      }
      welcomed.get(10, TimeUnit.SECONDS);
      return new RogueAgent(session, channel, self);
    }

    static StreamObserver<CoordinatorMessage> observer(Consumer<CoordinatorMessage> onMessage,
        CompletableFuture<Status> closed) {
      return new StreamObserver<>() {
        @Override
        public void onNext(CoordinatorMessage value) {
          onMessage.accept(value);
        }

        @Override
        public void onError(Throwable t) {
          closed.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
          closed.complete(Status.OK);
        }
      };
    }

    /** Uploads {@code update} for a task and returns the coordinator's answer. */
    static Status upload(ManagedChannel channel, String taskId, float[] update) {
      CompletableFuture<Status> answer = new CompletableFuture<>();
      StreamObserver<UpdateUploadMessage> upload = FederationServiceGrpc.newStub(channel)
          .uploadUpdate(new StreamObserver<UploadReceipt>() {
            @Override
            public void onNext(UploadReceipt value) { }

            @Override
            public void onError(Throwable t) {
              answer.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
              answer.complete(Status.OK);
            }
          });
      ChunkedPayload payload = new ChunkedPayload(Tensors.toBytes(update));
      for (int i = 0; i < payload.chunkCount(); i++) {
        UpdateUploadMessage.Builder message = UpdateUploadMessage.newBuilder().setChunk(payload.chunk(i));
        if (i == 0) {
          message.setHeader(UploadHeader.newBuilder().setTaskId(taskId).setNumSamples(40));
        }
        upload.onNext(message.build());
      }
      upload.onCompleted();
      return answer.orTimeout(30, TimeUnit.SECONDS).join();
    }

    @Override
    public void close() {
      try {
        session.onCompleted();
      } catch (RuntimeException ignored) {
        // already closed by the coordinator
      }
      channel.shutdownNow();
    }

  }
}
