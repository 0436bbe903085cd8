package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.store.CheckpointStore;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.proto.v1.AgentMessage;
import org.medfed.proto.v1.CoordinatorMessage;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.UpdateUploadMessage;
import org.medfed.proto.v1.UploadHeader;
import org.medfed.secagg.quant.Quantizer;
import org.medfed.trust.tls.TlsFiles;

/**
 * Secure aggregation end to end over loopback gRPC with real DL4J training and real crypto.
 *
 * <p>Error bound: each hospital sends [w, w*delta, w*loss] with w = samples / max_samples_per_node,
 * quantized with step s = 2 * clip / (2^b - 1), b = 32 - ceil(log2 selected) - 1. The sum of m
 * contributors' vectors is off by less than m*s per coordinate, so the mean delta (sum of w*delta
 * over the sum of w, W) is off by less than m*s / W, plus float32 rounding. With clip 1, 3 selected
 * (b = 29) and 3 x 40 samples over 100000: 9.3e-6.
 */
class SecureAggregationEndToEndTest {
  static final int SAMPLES = 40;

  @TempDir Path dataDir;

  private static String job(int minNodes, boolean secure) {
    return """
        name: secure
        dataset: expression
        model: {architecture: mlp, hidden: [8]}
        input_shape: [20]
        num_classes: 3
        rounds: 1
        min_nodes: %d
        local_epochs: 1
        batch_size: 16
        learning_rate: 0.01
        secure_aggregation: %s
        deadlines: {selection: 30s, training: 60s, evaluation: 20s}
        """.formatted(minNodes, secure ? "{enabled: true, stage_deadline: 20s}" : "false");
  }

  /** The bit width follows the number of selected nodes; the error grows with those whose input is summed. */
  private static double bound(int selected, int contributors, double totalWeight) {
    Quantizer quantizer = Quantizer.forParticipants(1.0, selected);
    return contributors * quantizer.step() / totalWeight + 1e-6;
  }

  /** The sample-weighted mean of what the recording trainers produced; every hospital has SAMPLES samples. */
  private static float[] expectedGlobal(float[] global, List<RecordingTrainer> trainers) {
    float[] expected = global.clone();
    for (int i = 0; i < expected.length; i++) {
      double sum = 0;
      for (RecordingTrainer t : trainers) {
        sum += t.produced.get(0)[i] - t.received.get(0)[i];
      }
      expected[i] = (float) (global[i] + sum / trainers.size());
    }
    return expected;
  }

  private static double maxDifference(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  @Test
  void secureJob_matchesThePlaintextJob_withinTheQuantizationBound() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      List<RecordingTrainer> trainers = new ArrayList<>();
      for (int h = 0; h < 3; h++) {
        RecordingTrainer trainer = new RecordingTrainer();
        trainers.add(trainer);
        federation.agent("hospital-" + (char) ('a' + h), Blobs.dataset("expression", h + 1, SAMPLES, 20, 20), trainer);
      }

      String secureJob = federation.submit(job(3, true)).getJobId();
      federation.watch(secureJob, Duration.ofMinutes(2));
      String plainJob = federation.submit(job(3, false)).getJobId();
      federation.watch(plainJob, Duration.ofMinutes(2));

      assertEquals(JobState.SUCCEEDED, federation.job(secureJob).getSummary().getState(),
          federation.job(secureJob).getSummary().getMessage());
      CheckpointStore store = new CheckpointStore(dataDir.resolve("jobs"));
      GlobalModel secure = store.read(secureJob, 1).orElseThrow();
      GlobalModel plain = store.read(plainJob, 1).orElseThrow();
      double bound = bound(3, 3, 3.0 * SAMPLES / 100_000);
      float[] expected = expectedGlobal(trainers.get(0).received.get(0), trainers);
      double error = maxDifference(expected, secure.parameters());
      assertTrue(error <= bound, "secure aggregate off by " + error + ", bound " + bound);
      // Same job without secure aggregation: DL4J training is deterministic here, so the models agree too.
      double gap = maxDifference(plain.parameters(), secure.parameters());
      assertTrue(gap <= bound, "secure vs plaintext differ by " + gap + ", bound " + bound);
      JobDetail detail = federation.job(secureJob);
      assertTrue(detail.getSpecJson().contains("\"enabled\" : true"), detail.getSpecJson());
      assertEquals(3.0 * SAMPLES, detail.getRounds(0).getMetricsOrThrow("train_samples"), 0.01);
    }
  }

  @Test
  void secAggPlus_withTwoNeighboursEach_givesTheSameMeanAsEveryPairMasking() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      List<RecordingTrainer> trainers = new ArrayList<>();
      for (int h = 0; h < 5; h++) {
        RecordingTrainer trainer = new RecordingTrainer();
        trainers.add(trainer);
        federation.agent("hospital-" + (char) ('a' + h), Blobs.dataset("expression", h + 1, SAMPLES, 20, 20), trainer);
      }

      String jobId = federation.submit(job(5, true).replace("stage_deadline: 20s}", "stage_deadline: 20s,"
          + " neighbours: 2}")).getJobId();
      List<JobEvent> events = federation.watch(jobId, Duration.ofMinutes(2));

      assertEquals(JobState.SUCCEEDED, federation.job(jobId).getSummary().getState(),
          federation.job(jobId).getSummary().getMessage());
      assertTrue(events.stream().anyMatch(e -> e.getMessage().contains("harary(n=5, k=2")),
          "the round used the SecAgg+ graph");
      GlobalModel secure = new CheckpointStore(dataDir.resolve("jobs")).read(jobId, 1).orElseThrow();
      double bound = bound(5, 5, 5.0 * SAMPLES / 100_000);
      double error = maxDifference(expectedGlobal(trainers.get(0).received.get(0), trainers), secure.parameters());
      assertTrue(error <= bound, "SecAgg+ aggregate off by " + error + ", bound " + bound);
    }
  }

  @Test
  void agentsKilledAfterShareKeysAndAfterMaskedInput_roundCompletesWithTheSurvivorsExactSum() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      List<RecordingTrainer> inSum = new ArrayList<>();
      for (int h = 0; h < 3; h++) {
        RecordingTrainer trainer = new RecordingTrainer();
        inSum.add(trainer);
        federation.agent("hospital-" + (char) ('a' + h), Blobs.dataset("expression", h + 1, SAMPLES, 20, 20), trainer);
      }
      // hospital-d dies after ShareKeys: when its share inbox arrives, which the coordinator sends
      // only once it has every hospital's shares.
      AtomicReference<ManagedChannel> dChannel = new AtomicReference<>();
      TlsFiles dKit = federation.kit("hospital-d");
      dChannel.set(federation.channel(dKit, "127.0.0.1", Incoming.dieOnInbox(dChannel)));
      federation.agent("hospital-d", Blobs.dataset("expression", 4, SAMPLES, 20, 20), new RecordingTrainer(), dKit,
          dChannel.get());
      // hospital-e dies after MaskedInput: just as it would reveal its unmasking shares.
      AtomicReference<ManagedChannel> eChannel = new AtomicReference<>();
      RecordingTrainer eTrainer = new RecordingTrainer();
      inSum.add(eTrainer);
      TlsFiles eKit = federation.kit("hospital-e");
      eChannel.set(federation.channel(eKit, "127.0.0.1", new DieBeforeUnmasking(eChannel)));
      federation.agent("hospital-e", Blobs.dataset("expression", 5, SAMPLES, 20, 20), eTrainer, eKit, eChannel.get());

      String jobId = federation.submit(job(3, true)).getJobId();
      federation.watch(jobId, Duration.ofMinutes(2));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      // e's masked input is in the sum although e never helped unmask; d's is not.
      assertEquals(List.of("hospital-a", "hospital-b", "hospital-c", "hospital-e"),
          detail.getRounds(0).getParticipantsList().stream().sorted().toList());
      assertTrue(detail.getRounds(0).getDroppedList().stream().anyMatch(d -> d.startsWith("hospital-d: ")
          && d.endsWith("(secure aggregation: training)")), detail.getRounds(0).getDroppedList().toString());
      assertTrue(detail.getRounds(0).getDroppedList().stream().anyMatch(d -> d.startsWith("hospital-e: ")
          && d.endsWith("(secure aggregation: unmasking)")), detail.getRounds(0).getDroppedList().toString());
      GlobalModel after = new CheckpointStore(dataDir.resolve("jobs")).read(jobId, 1).orElseThrow();
      double bound = bound(5, 4, 4.0 * SAMPLES / 100_000);
      double error = maxDifference(expectedGlobal(inSum.get(0).received.get(0), inSum), after.parameters());
      assertTrue(error <= bound, "survivors' aggregate off by " + error + ", bound " + bound);
    }
  }

  @Test
  void hospitalWhoseSurvivorSetSignatureFails_isDroppedAtTheConsistencyCheck_andItsUpdateStaysInTheSum()
      throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      List<RecordingTrainer> trainers = new ArrayList<>();
      for (int h = 0; h < 3; h++) {
        RecordingTrainer trainer = new RecordingTrainer();
        trainers.add(trainer);
        String node = "hospital-" + (char) ('a' + h);
        if (h == 2) {
          federation.agent(node, Blobs.dataset("expression", h + 1, SAMPLES, 20, 20), trainer,
              new SpoilSurvivorSignature());
        } else {
          federation.agent(node, Blobs.dataset("expression", h + 1, SAMPLES, 20, 20), trainer);
        }
      }

      // min_nodes 2: t = 2 of 3, so the two good signatures suffice.
      String jobId = federation.submit(job(2, true)).getJobId();
      federation.watch(jobId, Duration.ofMinutes(2));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(List.of("hospital-c: its survivor-set signature was refused: the signature does not match what it"
          + " signs (secure aggregation: consistency check)"), detail.getRounds(0).getDroppedList());
      // hospital-c's masked update was in the sum before it signed; its self mask came off with its peers' shares.
      assertEquals(List.of("hospital-a", "hospital-b", "hospital-c"),
          detail.getRounds(0).getParticipantsList().stream().sorted().toList());
      GlobalModel after = new CheckpointStore(dataDir.resolve("jobs")).read(jobId, 1).orElseThrow();
      double bound = bound(3, 3, 3.0 * SAMPLES / 100_000);
      double error = maxDifference(expectedGlobal(trainers.get(0).received.get(0), trainers), after.parameters());
      assertTrue(error <= bound, "aggregate off by " + error + ", bound " + bound);
    }
  }

  @Test
  void bytesTheCoordinatorReceivesFromAnAgent_containNeitherItsUpdateNorItsSampleCount() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      Capture capture = new Capture();
      RecordingTrainer watched = new RecordingTrainer();
      federation.agent("hospital-a", Blobs.dataset("expression", 1, SAMPLES, 20, 20), watched, capture);
      federation.agent("hospital-b", Blobs.dataset("expression", 2, SAMPLES, 20, 20));
      federation.agent("hospital-c", Blobs.dataset("expression", 3, SAMPLES, 20, 20));

      String jobId = federation.submit(job(3, true)).getJobId();
      federation.watch(jobId, Duration.ofMinutes(2));
      assertEquals(JobState.SUCCEEDED, federation.job(jobId).getSummary().getState());

      byte[] sent = capture.bytes();
      float[] received = watched.received.get(0);
      float[] produced = watched.produced.get(0);
      float[] delta = new float[produced.length];
      float[] weighted = new float[produced.length];
      double weight = SAMPLES / 100_000.0;
      for (int i = 0; i < delta.length; i++) {
        delta[i] = produced[i] - received[i];
        weighted[i] = (float) (weight * delta[i]);
      }
      assertTrue(sent.length > 4 * delta.length, "the capture should hold the masked upload, got " + sent.length);
      for (int start = 0; start + 4 <= delta.length; start += 37) {
        assertFalse(contains(sent, floats(delta, start, 4)), "plaintext delta found at " + start);
        assertFalse(contains(sent, floats(weighted, start, 4)), "weighted delta found at " + start);
        assertFalse(contains(sent, floats(produced, start, 4)), "local weights found at " + start);
      }
      ByteBuffer count = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      assertFalse(contains(sent, count.putLong(0, SAMPLES).array()), "sample count as int64 found");
      assertFalse(contains(sent, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(SAMPLES).array()));
      assertFalse(contains(sent, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat((float) weight).array()));
      assertTrue(capture.uploadHeaders.stream().allMatch(h -> h.getNumSamples() == 0 && h.getMetricsCount() == 0),
          "upload headers must not carry sample counts or metrics: " + capture.uploadHeaders);
    }
  }

  @Test
  void eachCertificateCrossesASessionOnce_andAHospitalThatReconnectsGetsThemAllAgain() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      List<Integer> toA = new CopyOnWriteArrayList<>();
      federation.agent("hospital-a", Blobs.dataset("expression", 1, SAMPLES, 20, 20), new RecordingTrainer(),
          Incoming.countCertificates(toA));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, SAMPLES, 20, 20));
      NodeAgent c = federation.agent("hospital-c", Blobs.dataset("expression", 3, SAMPLES, 20, 20));

      String twoRounds = federation.submit(job(3, true).replace("rounds: 1", "rounds: 2")).getJobId();
      federation.watch(twoRounds, Duration.ofMinutes(2));
      assertEquals(JobState.SUCCEEDED, federation.job(twoRounds).getSummary().getState(),
          federation.job(twoRounds).getSummary().getMessage());
      // Round 1 carries the certificates of a's two neighbours (never its own keys); round 2 names them by number.
      assertEquals(List.of(2, 0), toA);

      // hospital-c comes back on a new session (and with a new startup kit): it gets every certificate
      // in full, and a gets c's new one.
      c.close();
      List<Integer> toNewC = new CopyOnWriteArrayList<>();
      federation.agent("hospital-c", Blobs.dataset("expression", 3, SAMPLES, 20, 20), new RecordingTrainer(),
          Incoming.countCertificates(toNewC));
      String after = federation.submit(job(3, true)).getJobId();
      federation.watch(after, Duration.ofMinutes(2));

      assertEquals(JobState.SUCCEEDED, federation.job(after).getSummary().getState(),
          federation.job(after).getSummary().getMessage());
      assertEquals(List.of(2), toNewC);
      assertEquals(List.of(2, 0, 1), toA);
    }
  }

  private static byte[] floats(float[] values, int from, int count) {
    ByteBuffer buffer = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      buffer.putFloat(values[from + i]);
    }
    return buffer.array();
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /** Records every byte an agent sends to the coordinator, on every call. */
  static final class Capture implements ClientInterceptor {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final List<UploadHeader> uploadHeaders = new CopyOnWriteArrayList<>();

    synchronized byte[] bytes() {
      return bytes.toByteArray();
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void sendMessage(Q message) {
          com.google.protobuf.MessageLite proto = (com.google.protobuf.MessageLite) message;
          synchronized (Capture.this) {
            bytes.writeBytes(proto.toByteArray());
          }
          if (message instanceof UpdateUploadMessage upload && upload.hasHeader()) {
            uploadHeaders.add(upload.getHeader());
          }
          super.sendMessage(message);
        }
      };
    }
  }

  /** Flips one bit of the agent's survivor-set signature on its way out, as a rogue hospital might send it. */
  static final class SpoilSurvivorSignature implements ClientInterceptor {
    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void sendMessage(Q message) {
          if (message instanceof AgentMessage agent && agent.hasSecaggSurvivorSignature()) {
            byte[] signature = agent.getSecaggSurvivorSignature().getSignature().toByteArray();
            signature[signature.length - 1] ^= 1;  // inside the DER-encoded s, so it still parses
            super.sendMessage(cast(agent.toBuilder().setSecaggSurvivorSignature(agent.getSecaggSurvivorSignature()
                .toBuilder().setSignature(com.google.protobuf.ByteString.copyFrom(signature))).build()));
            return;
          }
          super.sendMessage(message);
        }

        @SuppressWarnings("unchecked")
        private Q cast(AgentMessage message) {
          return (Q) message;
        }
      };
    }
  }

  /** Kills the agent's connection instead of sending its unmasking shares. */
  static final class DieBeforeUnmasking implements ClientInterceptor {
    private final AtomicReference<ManagedChannel> channel;

    DieBeforeUnmasking(AtomicReference<ManagedChannel> channel) {
      this.channel = channel;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void sendMessage(Q message) {
          if (message instanceof AgentMessage agent && agent.hasSecaggUnmask()) {
            channel.get().shutdownNow();
            return;
          }
          super.sendMessage(message);
        }
      };
    }
  }

  /**
   * Shows each message the coordinator sends an agent to {@code deliver} before the agent sees it;
   * a message for which it answers false never reaches the agent.
   */
  record Incoming(Predicate<CoordinatorMessage> deliver) implements ClientInterceptor {
    /** Kills the agent's connection as soon as the coordinator's share inbox reaches it. */
    static Incoming dieOnInbox(AtomicReference<ManagedChannel> channel) {
      return new Incoming(message -> {
        if (message.hasSecaggInbox()) {
          channel.get().shutdownNow();
          return false;
        }
        return true;
      });
    }

    /** Adds, for each key directory the agent receives, the number of certificates it carries in full. */
    static Incoming countCertificates(List<Integer> fullCertificates) {
      return new Incoming(message -> {
        if (message.hasSecaggDirectory()) {
          fullCertificates.add((int) message.getSecaggDirectory().getKeysList().stream()
              .filter(keys -> !keys.getCertificate().isEmpty()).count());
        }
        return true;
      });
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(ClientCall.Listener<R> listener, io.grpc.Metadata headers) {
          super.start(new io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
            @Override
            public void onMessage(R message) {
              if (!(message instanceof CoordinatorMessage coordinator) || deliver.test(coordinator)) {
                super.onMessage(message);
              }
            }
          }, headers);
        }
      };
    }
  }
}
