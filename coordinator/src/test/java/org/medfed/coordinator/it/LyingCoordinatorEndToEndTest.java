package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.proto.v1.AgentMessage;
import org.medfed.proto.v1.CoordinatorMessage;
import org.medfed.proto.v1.FederationServiceGrpc;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.SecAggSignature;
import org.medfed.proto.v1.SecAggSurvivorSet;
import org.medfed.proto.v1.SecAggUnmaskRequest;

/**
 * A coordinator that lies in secure aggregation's consistency check, end to end over mutual TLS with
 * real agents, real training and real certificates.
 *
 * <p>The lie is told at the narrowest seam that can tell it: a server interceptor on the real
 * coordinator's Connect stream, so every byte the hospitals see comes from the coordinator's
 * endpoint. It shows hospital-a a survivor set without hospital-c (so that hospital-a would reveal
 * hospital-c's masking-key share) and shows the others the true set (so that they reveal
 * hospital-c's self-mask shares); both together would unmask hospital-c's update. It then plays the
 * rest of a coordinator that does not check: it keeps the survivors' signatures from the real
 * coordinator's own check and sends every hospital an unmask request carrying all of them.
 */
class LyingCoordinatorEndToEndTest {
  private static final String JOB = """
      name: lied-to
      dataset: expression
      model: {architecture: mlp, hidden: [8]}
      input_shape: [20]
      num_classes: 3
      rounds: 1
      min_nodes: 2
      round_retries: 0
      batch_size: 16
      learning_rate: 0.01
      secure_aggregation: {stage_deadline: 20s}
      deadlines: {selection: 20s, training: 60s, evaluation: 20s}
      """;

  @TempDir Path dataDir;

  @Test
  void coordinatorShowingTwoHospitalsDifferentSurvivorSets_noHospitalRevealsAShare_andTheRoundFailsSayingWhy()
      throws Exception {
    LyingCoordinator liar = new LyingCoordinator("hospital-a", "hospital-c");
    try (Federation federation = new Federation(dataDir, CoordinatorConfig.defaults(dataDir), liar)) {
      for (String hospital : List.of("hospital-a", "hospital-b", "hospital-c")) {
        federation.agent(hospital, Blobs.dataset("expression", hospital.charAt(9) - 'a' + 1, 40, 20, 20));
      }

      String jobId = federation.submit(JOB).getJobId();
      federation.watch(jobId, Duration.ofMinutes(2));
      JobDetail detail = federation.job(jobId);

      // Ids follow the names: hospital-a 1, hospital-b 2, hospital-c 3; t = 2 of 3.
      assertEquals(Map.of("hospital-a", List.of(1, 2), "hospital-b", List.of(1, 2, 3), "hospital-c", List.of(1, 2, 3)),
          liar.shown, "the lie was told");
      assertEquals(List.of(), liar.revealed, "hospitals that sent unmasking shares");
      assertEquals(JobState.FAILED, detail.getSummary().getState(), detail.getSummary().getMessage());
      String why = detail.getSummary().getMessage();
      assertTrue(why.contains("hospital-a=node 1 aborts secure aggregation: node 2's signature is not over the survivor"
          + " set [1, 2] node 1 was shown ('hospital-b': the signature does not match what it signs): the server"
          + " showed different nodes different survivor sets, or altered the signature; refusing to unmask"), why);
      for (String other : List.of("hospital-b=node 2", "hospital-c=node 3")) {
        assertTrue(why.contains(other + " aborts secure aggregation: node 1's signature is not over the survivor set"
            + " [1, 2, 3] node " + other.charAt(other.length() - 1) + " was shown ('hospital-a': the signature does"
            + " not match what it signs)"), why);
      }
    }
  }

  /**
   * Rewrites the survivor set shown to {@code victim} so that {@code hidden} seems to have dropped,
   * withholds the survivors' signatures from the real coordinator, and once all are in sends each
   * hospital the unmask request a non-checking coordinator would: its shown set as survivors, the
   * rest as dropouts, and every signature.
   */
  private static final class LyingCoordinator implements ServerInterceptor {
    private final String victim;
    private final String hidden;
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();
    private final Map<String, Session<?, ?>> sessions = new ConcurrentHashMap<>();
    final Map<String, List<Integer>> shown = new ConcurrentHashMap<>();
    private final Map<String, String> taskIds = new ConcurrentHashMap<>();
    private final Map<String, SecAggSignature> signatures = new TreeMap<>();
    /** Hospitals whose unmasking shares reached the coordinator. */
    final List<String> revealed = new CopyOnWriteArrayList<>();

    LyingCoordinator(String victim, String hidden) {
      this.victim = victim;
      this.hidden = hidden;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      if (!call.getMethodDescriptor().getFullMethodName().equals(FederationServiceGrpc.getConnectMethod()
          .getFullMethodName())) {
        return next.startCall(call, headers);
      }
      Session<Q, R> session = new Session<>(call);
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<Q>(next.startCall(session, headers)) {
        @Override
        public void onMessage(Q message) {
          AgentMessage m = (AgentMessage) message;
          switch (m.getBodyCase()) {
            case HELLO -> {
              session.node = m.getHello().getNodeId();
              sessions.put(session.node, session);
            }
            case SECAGG_UNMASK -> revealed.add(session.node);
            case SECAGG_SURVIVOR_SIGNATURE -> {
              signed(session.node, m.getSecaggSurvivorSignature().getSignature());
              // Withheld from the coordinator, which would have asked for the next message after it.
              session.request(1);
              return;
            }
            default -> { }
          }
          super.onMessage(message);
        }
      };
    }

    private void signed(String node, com.google.protobuf.ByteString signature) {
      List<SecAggSignature> all;
      synchronized (signatures) {
        signatures.put(node, SecAggSignature.newBuilder().setId(ids.get(node)).setSignature(signature).build());
        // Every hospital survives here: wait for all three, not for those shown the set so far.
        if (signatures.size() < ids.size()) {
          return;
        }
        all = List.copyOf(signatures.values());
      }
      shown.forEach((hospital, set) -> {
        Set<Integer> dropouts = new TreeSet<>(ids.values());
        dropouts.removeAll(set);
        sessions.get(hospital).inject(CoordinatorMessage.newBuilder().setSecaggUnmaskRequest(
            SecAggUnmaskRequest.newBuilder().setTaskId(taskIds.get(hospital)).addAllSurvivors(set)
                .addAllDropouts(dropouts).addAllSignatures(all)).build());
      });
    }

    /** One hospital's session, its outgoing messages read and, for the survivor set, rewritten. */
    private final class Session<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
      volatile String node;

      Session(ServerCall<Q, R> call) {
        super(call);
      }

      @Override
      public synchronized void sendMessage(R message) {
        CoordinatorMessage m = (CoordinatorMessage) message;
        if (m.getBodyCase() == CoordinatorMessage.BodyCase.TRAIN) {
          ids.putAll(m.getTrain().getSecureAggregation().getParticipantIdsMap());
        } else if (m.getBodyCase() == CoordinatorMessage.BodyCase.SECAGG_SURVIVORS) {
          SecAggSurvivorSet set = m.getSecaggSurvivors();
          List<Integer> survivors = new ArrayList<>(set.getSurvivorsList());
          if (node.equals(victim)) {
            survivors.remove(ids.get(hidden));
          }
          taskIds.put(node, set.getTaskId());
          shown.put(node, List.copyOf(survivors));
          m = m.toBuilder().setSecaggSurvivors(set.toBuilder().clearSurvivors().addAllSurvivors(survivors)).build();
        }
        super.sendMessage(cast(m));
      }

      synchronized void inject(CoordinatorMessage message) {
        super.sendMessage(cast(message));
      }

      @SuppressWarnings("unchecked")
      private R cast(CoordinatorMessage message) {
        return (R) message;
      }
    }
  }
}
