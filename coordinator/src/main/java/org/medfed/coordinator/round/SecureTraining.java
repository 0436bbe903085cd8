package org.medfed.coordinator.round;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.SecureAggregationSpec;
import org.medfed.coordinator.session.NodeSession;
import org.medfed.coordinator.session.TaskBoard;
import org.medfed.coordinator.session.TaskResult;
import org.medfed.coordinator.strategy.RoundInput;
import org.medfed.coordinator.strategy.RoundUpdate;
import org.medfed.proto.v1.AgentMessage;
import org.medfed.proto.v1.CancelTask;
import org.medfed.proto.v1.CoordinatorMessage;
import org.medfed.proto.v1.SecAggKeyDirectory;
import org.medfed.proto.v1.SecAggKeys;
import org.medfed.proto.v1.SecAggPublicKeys;
import org.medfed.proto.v1.SecAggSetup;
import org.medfed.proto.v1.SecAggShare;
import org.medfed.proto.v1.SecAggShareInbox;
import org.medfed.proto.v1.SecAggSignature;
import org.medfed.proto.v1.SecAggSurvivorSet;
import org.medfed.proto.v1.SecAggUnmaskRequest;
import org.medfed.proto.v1.TrainingPlan;
import org.medfed.secagg.SecAggException;
import org.medfed.secagg.crypto.Shamir;
import org.medfed.secagg.protocol.MaskingGraph;
import org.medfed.secagg.protocol.Messages;
import org.medfed.secagg.protocol.SecAggConfig;
import org.medfed.secagg.protocol.SecAggServer;
import org.medfed.secagg.quant.Quantizer;
import org.medfed.telemetry.StepCpu;
import org.medfed.trust.pki.Certified;
import org.medfed.trust.pki.IdentitySignatures;
import org.medfed.trust.pki.Role;
import org.medfed.wire.SecAggInstance;
import org.medfed.wire.UpdateLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TRAIN phase with secure aggregation (Bonawitz et al. 2017): the five protocol stages run over
 * the nodes' sessions while they train, and the coordinator ends with the sum of the survivors'
 * masked vectors laid out by {@link UpdateLayout}, [w, w * delta, w * extra vectors..., w * loss],
 * where w is a node's sample count over max_samples_per_node. Dividing by the summed weight gives
 * the weighted mean of every vector; no individual update, weight or loss is ever held, logged or
 * stored in the clear. Every stage has a deadline;
 * nodes that miss one are dropped and recovered by the protocol, and below the threshold the round
 * fails and reveals nothing.
 */
final class SecureTraining {
  private static final Logger log = LoggerFactory.getLogger(SecureTraining.class);
  private final Job job;
  private final JobSpec spec;
  private final RoundServices services;

  SecureTraining(Job job, RoundServices services) {
    this.job = job;
    this.spec = job.spec();
    this.services = services;
  }

  Collected run(int round, List<NodeSession> selected, TrainingPlan plan,
      TrainingDownloads downloads) throws InterruptedException {
    SecureAggregationSpec settings = spec.secureAggregation();
    int n = selected.size();
    if (n < 2 || n > Shamir.MAX_SHARES) {
      return new Collected.TooFew("round " + round + ": secure aggregation needs 2.." + Shamir.MAX_SHARES
          + " nodes per round, got " + n
          + "; set min_nodes >= 2, or secure_aggregation: false for a single hospital");
    }
    Map<String, Integer> ids = new TreeMap<>();
    selected.stream().map(NodeSession::nodeId).sorted().forEach(node -> ids.put(node, ids.size() + 1));
    Map<Integer, String> names = new TreeMap<>();
    ids.forEach((node, id) -> names.put(id, node));
    // SecAgg+ only pays off below n - 1 neighbours; otherwise every pair masks.
    int neighbours = settings.neighbours() > 0 && settings.neighbours() < n - 1 ? settings.neighbours() : 0;
    UpdateLayout layout = downloads.layout(plan);
    int length = layout.maskedLength();
    double clip = downloads.clip(settings.clip());
    Quantizer quantizer = Quantizer.forParticipants(clip, n);
    // A fresh context per attempt: keys, shares and masks of an earlier attempt never verify again.
    byte[] context = (job.id() + "/round-" + round + "/" + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    long graphSeed = SecAggInstance.graphSeed(context);
    MaskingGraph graph = neighbours == 0 ? MaskingGraph.complete(List.copyOf(ids.values()))
        : MaskingGraph.randomRegular(List.copyOf(ids.values()), neighbours, graphSeed);
    // An honest majority of everyone (complete graph) or of each neighbourhood (SecAgg+).
    int threshold = neighbours == 0 ? Math.min(n, Math.max(spec.minNodes(), SecAggConfig.majority(n)))
        : SecAggConfig.majority(neighbours + 1);
    SecAggSetup setup = SecAggSetup.newBuilder().setContext(ByteString.copyFrom(context)).putAllParticipantIds(ids)
        .setThreshold(threshold).setClip(clip).setBits(quantizer.bits())
        .setMaxSamplesPerNode(settings.maxSamplesPerNode()).setVectorLength(length)
        .setNeighbours(neighbours).setGraphSeed(graphSeed).build();
    // What every signature of the round covers: the whole setup, so a hospital that sees only its
    // neighbours' keys still knows they were made for the very setup, and graph, it was shown.
    byte[] instance = SecAggInstance.context(setup);
    SecAggServer server = new SecAggServer(new SecAggConfig(instance, graph, threshold, length));

    Instant trainingDeadline = services.clock().instant().plus(spec.deadlines().training());
    Map<String, TaskBoard.Issued> tasks = new TreeMap<>();
    Map<String, NodeSession> sessions = new TreeMap<>();
    Map<String, String> dropped = new LinkedHashMap<>();
    // Nodes whose protocol ran to its end; every other node still holds its task open at the agent.
    Set<String> finished = new HashSet<>();
    StepCpu<UnmaskingStep> cpu = new StepCpu<>(UnmaskingStep.class);
    // Each node's certificate as its round keys were checked under it; its survivor-set signature must verify under it too.
    Map<String, Certified> certified = new TreeMap<>();
    try {
      for (NodeSession node : selected) {
        TaskBoard.Issued task = services.tasks().issueSecure(node.nodeId(), length);
        tasks.put(node.nodeId(), task);
        sessions.put(node.nodeId(), node);
        node.send(CoordinatorMessage.newBuilder().setTrain(downloads.task(task.taskId(), job.id(), round, spec, plan,
            trainingDeadline, services.auditHead()).setSecureAggregation(setup)).build());
      }
      progress(round, "secure aggregation among " + n + " nodes (" + graph + "), threshold " + threshold + ", "
          + quantizer.bits() + "-bit values clipped to +-" + clip);

      StageClock clock = new StageClock();
      stage(round, "ADVERTISE_KEYS", "waiting for " + n + " nodes' public keys");
      Map<String, AgentMessage> keys = awaitStep(tasks, AgentMessage.BodyCase.SECAGG_KEYS, stageDeadline(), dropped,
          "advertise keys");
      cpu.run(UnmaskingStep.KEYS, () -> {
        services.consortiumCa().ifPresent(ca -> keys.entrySet().removeIf(entry -> {
          Optional<String> problem = keyProblem(ca, instance, ids.get(entry.getKey()), sessions.get(entry.getKey()),
              entry.getValue().getSecaggKeys(), certified);
          problem.ifPresent(why -> {
            dropped.put(entry.getKey(), "its round keys were refused: " + why + " (secure aggregation: advertise keys)");
            job.progress(0, "SECURE_AGGREGATION", "node '" + entry.getKey() + "' dropped at advertise keys: its round"
                + " keys were refused: " + why, Map.of());
          });
          return problem.isPresent();
        }));
        List<Messages.AdvertiseKeys> advertised = new ArrayList<>();
        keys.forEach((node, m) -> advertised.add(new Messages.AdvertiseKeys(ids.get(node),
            m.getSecaggKeys().getEncryptionKey().toByteArray(), m.getSecaggKeys().getMaskingKey().toByteArray())));
        // Each hospital gets its neighbourhood's keys only (all of them on the complete graph).
        Map<Integer, Messages.KeyDirectory> directories = server.collectKeys(advertised);
        Map<Integer, SecAggPublicKeys> relayed = new TreeMap<>();
        keys.forEach((node, m) -> {
          SecAggKeys sent = m.getSecaggKeys();
          SecAggPublicKeys.Builder entry = SecAggPublicKeys.newBuilder().setId(ids.get(node))
              .setEncryptionKey(sent.getEncryptionKey()).setMaskingKey(sent.getMaskingKey())
              .setSignature(sent.getSignature());
          // The certificate its session presented, which signed the keys; each session carries it once.
          Optional.ofNullable(certified.get(node)).ifPresent(signer -> entry
              .setCertificate(ByteString.copyFrom(encoded(signer))));
          relayed.put(ids.get(node), entry.build());
        });
        keys.keySet().forEach(node -> {
          SecAggKeyDirectory.Builder directory = SecAggKeyDirectory.newBuilder().setTaskId(tasks.get(node).taskId());
          directories.get(ids.get(node)).keys().forEach(k -> directory.addKeys(relayed.get(k.from())));
          sessions.get(node).sendDirectory(directory.build());
        });
      });

      clock.lap("keys");
      stage(round, "SHARE_KEYS", keys.size() + " nodes advertised keys; waiting for their encrypted shares");
      Map<String, AgentMessage> shares = awaitStep(subset(tasks, keys.keySet()), AgentMessage.BodyCase.SECAGG_SHARES,
          stageDeadline(), dropped, "share keys");
      cpu.run(UnmaskingStep.SHARES, () -> {
        List<Messages.ShareKeys> shared = new ArrayList<>();
        // The sender is the session's node: a share travels up with its recipient only, down with its sender only.
        shares.forEach((node, m) -> shared.add(new Messages.ShareKeys(ids.get(node),
            m.getSecaggShares().getSelfMaskCommitment().toByteArray(),
            m.getSecaggShares().getSharesList().stream().map(s -> new Messages.EncryptedShare(ids.get(node),
                s.getTo(), s.getCiphertext().toByteArray())).toList())));
        Map<Integer, List<Messages.EncryptedShare>> inbox = server.routeShares(shared);
        for (String node : shares.keySet()) {
          SecAggShareInbox.Builder message = SecAggShareInbox.newBuilder().setTaskId(tasks.get(node).taskId());
          inbox.getOrDefault(ids.get(node), List.of()).forEach(s -> message.addShares(SecAggShare.newBuilder()
              .setFrom(s.from()).setCiphertext(ByteString.copyFrom(s.ciphertext()))));
          sessions.get(node).send(CoordinatorMessage.newBuilder().setSecaggInbox(message).build());
        }
      });

      clock.lap("shares");
      stage(round, "MASKED_INPUT", shares.size() + " nodes shared keys; waiting for their masked updates");
      // Each masked vector joins the sum as it arrives, instead of all of them after the last one.
      Map<String, TaskBoard.Issued> maskers = subset(tasks, shares.keySet());
      AtomicReference<SecAggException> sumFailure = new AtomicReference<>();
      boolean[] closed = {false};
      // The stage waits on these, so a vector is in the sum before the stage can close.
      Map<String, CompletableFuture<Object>> summed = new TreeMap<>();
      maskers.forEach((node, task) -> summed.put(node, task.result().thenApply(result -> {
        if (result instanceof TaskResult.Masked masked) {
          synchronized (server) {
            if (!closed[0]) {
              try {
                cpu.run(UnmaskingStep.SUM, () -> server.addMaskedInput(
                    Messages.MaskedInput.fromLittleEndian(ids.get(node), masked.take())));
              } catch (SecAggException e) {
                sumFailure.compareAndSet(null, e);
              }
            }
          }
        }
        return (Object) result;
      })));
      await(maskers, task -> summed.get(task.nodeId()), trainingDeadline, dropped, "training",
          r -> r instanceof TaskResult.Masked m ? m : null);
      clock.lap("masked inputs");
      Map<Integer, Messages.SurvivorSet> shown;
      synchronized (server) {
        closed[0] = true;
        if (sumFailure.get() != null) {
          throw sumFailure.get();
        }
        shown = cpu.time(UnmaskingStep.CONSISTENCY_CHECK, server::closeMaskedInputs);
      }
      // A vector that arrived between the deadline and closing is in the sum: its node is no dropout.
      server.survivors().forEach(id -> dropped.remove(names.get(id)));
      clock.lap("closing the sum");
      Map<String, TaskBoard.Issued> survivors = new TreeMap<>();
      server.survivors().forEach(id -> survivors.put(names.get(id), tasks.get(names.get(id))));
      Map<Integer, Messages.UnmaskRequest> requests = consistencyCheck(round, instance, shown, survivors, certified,
          sessions, ids, dropped, server, cpu);
      clock.lap("consistency check");
      stage(round, "UNMASKING", server.survivors().size() + " masked updates in the sum, " + requests.size()
          + " survivors signed the survivor set; asking them for the shares that remove the masks");
      cpu.run(UnmaskingStep.CONSISTENCY_CHECK, () -> requests.forEach((id, request) -> {
        SecAggUnmaskRequest.Builder message = SecAggUnmaskRequest.newBuilder()
            .setTaskId(tasks.get(names.get(id)).taskId())
            .addAllSurvivors(request.survivors()).addAllDropouts(request.dropouts());
        request.signatures().forEach(s -> message.addSignatures(SecAggSignature.newBuilder().setId(s.from())
            .setSignature(ByteString.copyFrom(s.signature()))));
        sessions.get(names.get(id)).send(CoordinatorMessage.newBuilder().setSecaggUnmaskRequest(message).build());
      }));

      Map<String, TaskBoard.Issued> signers = new TreeMap<>();
      requests.keySet().forEach(id -> signers.put(names.get(id), tasks.get(names.get(id))));
      Map<String, AgentMessage> unmasked = awaitStep(signers, AgentMessage.BodyCase.SECAGG_UNMASK, stageDeadline(),
          dropped, "unmasking");
      finished.addAll(unmasked.keySet());
      clock.lap("unmask shares");
      List<Messages.UnmaskResponse> responses = cpu.time(UnmaskingStep.UNMASK, () -> {
        List<Messages.UnmaskResponse> decoded = new ArrayList<>();
        unmasked.forEach((node, m) -> {
          Messages.UnmaskRequest asked = requests.get(ids.get(node));
          Optional<Map<Integer, byte[]>> selfMask = unpack(asked.survivors(), m.getSecaggUnmask().getSelfMaskShares());
          Optional<Map<Integer, byte[]>> maskingKeys = unpack(asked.dropouts(), m.getSecaggUnmask().getKeyShares());
          if (selfMask.isPresent() && maskingKeys.isPresent()) {
            decoded.add(new Messages.UnmaskResponse(ids.get(node), selfMask.get(), maskingKeys.get()));
          } else {
            dropped.put(node, "its unmask response carries " + m.getSecaggUnmask().getSelfMaskShares().size()
                + " bytes of self-mask shares and " + m.getSecaggUnmask().getKeyShares().size() + " of masking-key"
                + " shares, not " + Shamir.SHARE_BYTES + " for each of the " + asked.survivors().size() + " survivors"
                + " and " + asked.dropouts().size() + " dropouts it was asked about (secure aggregation: unmasking)");
          }
        });
        return decoded;
      });
      Means means = unmaskedMeans(server, responses, quantizer.sumDecoder(survivors.size()), layout, cpu);
      clock.lap("unmasking");
      log.info("job {} round {}: secure aggregation stage times {}", job.id(), round, clock);
      reportCpu(round, cpu);
      return combine(means, settings, List.copyOf(survivors.keySet()), dropped);
    } catch (SecAggException e) {
      return new Collected.TooFew("round " + round + ": " + e.getMessage() + "; dropped: " + dropped);
    } finally {
      for (Map.Entry<String, TaskBoard.Issued> entry : tasks.entrySet()) {
        // A node that uploaded its masked vector still waits for the unmask request: after an
        // aborted round it must hear so now, or it stays busy until its task deadline.
        if (!finished.contains(entry.getKey())) {
          sessions.get(entry.getKey()).send(CoordinatorMessage.newBuilder().setCancel(CancelTask.newBuilder()
              .setTaskId(entry.getValue().taskId()).setReason("secure-aggregation round over")).build());
        }
        services.tasks().retire(entry.getValue(), new TaskResult.Failed("secure-aggregation round over"));
      }
    }
  }

  /**
   * The consistency check of Bonawitz et al. 2017 (malicious setting): every survivor is shown the
   * same survivor set and signs it; the signatures that verify travel with the unmask requests, and
   * each hospital reveals its shares only when at least t of them are over the set it was shown.
   * Checking them here too turns one bad signature into one clean drop, instead of every peer
   * refusing the round over it. A survivor dropped here is still in the sum.
   *
   * @return the unmask request of each survivor whose signature was accepted
   */
  private Map<Integer, Messages.UnmaskRequest> consistencyCheck(int round, byte[] context,
      Map<Integer, Messages.SurvivorSet> shown, Map<String, TaskBoard.Issued> survivors,
      Map<String, Certified> certified, Map<String, NodeSession> sessions, Map<String, Integer> ids, Map<String, String> dropped, SecAggServer server,
      StepCpu<UnmaskingStep> cpu) throws InterruptedException {
    stage(round, "CONSISTENCY_CHECK", survivors.size() + " masked updates in the sum; asking each survivor to sign"
        + " the survivor set");
    survivors.forEach((node, task) -> sessions.get(node).send(CoordinatorMessage.newBuilder().setSecaggSurvivors(
        SecAggSurvivorSet.newBuilder().setTaskId(task.taskId()).addAllSurvivors(shown.get(ids.get(node)).survivors()))
        .build()));
    Map<String, AgentMessage> signed = awaitStep(survivors, AgentMessage.BodyCase.SECAGG_SURVIVOR_SIGNATURE,
        stageDeadline(), dropped, "consistency check");
    return cpu.time(UnmaskingStep.CONSISTENCY_CHECK, () -> acceptSignatures(context, signed, certified, ids, dropped,
        server));
  }

  /** The survivor-set signatures that verify, handed to the server; the others' nodes are dropped. */
  private Map<Integer, Messages.UnmaskRequest> acceptSignatures(byte[] context, Map<String, AgentMessage> signed,
      Map<String, Certified> certified, Map<String, Integer> ids, Map<String, String> dropped, SecAggServer server) {
    byte[] content = Messages.SurvivorSet.signedContent(context, server.survivors());
    // Without a consortium CA (development mode) nothing was signed, as for the round keys.
    if (services.consortiumCa().isPresent()) {
      signed.entrySet().removeIf(entry -> {
        Optional<String> problem = signatureProblem(content, certified.get(entry.getKey()),
            entry.getValue().getSecaggSurvivorSignature().getSignature().toByteArray());
        problem.ifPresent(why -> {
          dropped.put(entry.getKey(), "its survivor-set signature was refused: " + why
              + " (secure aggregation: consistency check)");
          job.progress(0, "SECURE_AGGREGATION", "node '" + entry.getKey() + "' dropped at the consistency check: its"
              + " survivor-set signature was refused: " + why, Map.of());
        });
        return problem.isPresent();
      });
    }
    List<Messages.SurvivorSignature> accepted = new ArrayList<>();
    signed.forEach((node, m) -> accepted.add(new Messages.SurvivorSignature(ids.get(node),
        m.getSecaggSurvivorSignature().getSignature().toByteArray())));
    return server.collectSignatures(accepted);
  }

  /**
   * A survivor-set signature counts when it verifies under the certificate that signed the node's
   * round keys, which {@link #keyProblem} already checked against the CA, the node's name and its
   * session: one ECDSA verification per node.
   */
  private Optional<String> signatureProblem(byte[] content, Certified certificate, byte[] signature) {
    try {
      certificate.verify(content, signature, services.clock().instant());
      return Optional.empty();
    } catch (IdentitySignatures.Rejected e) {
      return Optional.of(e.getMessage());
    }
  }

  /**
   * With mutual TLS a node's round keys count only when signed with the very certificate its
   * session presented (since protocol 3 the certificate is the session's own, and since protocol 4
   * the keys do not name it at all); its peers check the same signature before they use the keys,
   * so this check only turns a bad signature into a clean drop instead of every peer refusing the
   * round.
   */
  private Optional<String> keyProblem(X509Certificate ca, byte[] context, int id, NodeSession session,
      SecAggKeys keys, Map<String, Certified> certified) {
    Messages.AdvertiseKeys advertised = new Messages.AdvertiseKeys(id, keys.getEncryptionKey().toByteArray(),
        keys.getMaskingKey().toByteArray());
    if (session.certificate().isEmpty()) {
      return Optional.of("its session presented no certificate; connect with mutual TLS");
    }
    try {
      Certified signer = IdentitySignatures.verify(encoded(session.certificate().get()),
          advertised.signedContent(context, session.nodeId()), keys.getSignature().toByteArray(), ca,
          session.nodeId(), Role.HOSPITAL, services.clock().instant());
      certified.put(session.nodeId(), signer);
      return Optional.empty();
    } catch (IdentitySignatures.Rejected e) {
      return Optional.of(e.getMessage());
    }
  }

  private static byte[] encoded(X509Certificate certificate) {
    try {
      return certificate.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("a session certificate cannot be encoded: " + e.getMessage(), e);
    }
  }

  private static byte[] encoded(Certified certified) {
    return encoded(certified.certificate());
  }

  /**
   * Shares packed at their fixed width in the order of {@code owners}, by owner (protocol 4), or
   * empty when their length does not fit.
   */
  private static Optional<Map<Integer, byte[]>> unpack(List<Integer> owners, ByteString packed) {
    if (packed.size() != owners.size() * Shamir.SHARE_BYTES) {
      return Optional.empty();
    }
    Map<Integer, byte[]> shares = new TreeMap<>();
    for (int i = 0; i < owners.size(); i++) {
      shares.put(owners.get(i), packed.substring(i * Shamir.SHARE_BYTES, (i + 1) * Shamir.SHARE_BYTES).toByteArray());
    }
    return Optional.of(shares);
  }

  /**
   * The unmasked sum [sum w, sum w*delta..., sum w*extra..., sum w*loss] read into the weighted mean
   * of each vector and the summed weight and loss. The masks are stripped from the server's own sum,
   * and each mean is read from it straight into float32: besides the sum, only the means are
   * model-sized, and the sum is garbage once this returns (issue 16 item 2).
   */
  private static Means unmaskedMeans(SecAggServer server, List<Messages.UnmaskResponse> responses,
      Quantizer.SumDecoder decoder, UpdateLayout layout, StepCpu<UnmaskingStep> cpu) {
    int[] sum = cpu.time(UnmaskingStep.UNMASK, () -> server.unmask(responses));
    return cpu.time(UnmaskingStep.DEQUANTIZE, () -> {
      double weight = decoder.value(sum[layout.maskedWeightIndex()]);
      Map<String, float[]> means = new LinkedHashMap<>();
      if (weight > 0) {
        for (String vector : layout.vectors()) {
          float[] mean = new float[layout.parameterCount()];
          int offset = layout.maskedOffset(vector);
          for (int i = 0; i < mean.length; i++) {
            mean[i] = (float) (decoder.value(sum[offset + i]) / weight);
          }
          means.put(vector, mean);
        }
      }
      return new Means(means, weight, decoder.value(sum[layout.maskedLossIndex()]));
    });
  }

  /** The weighted mean of each vector, empty when the summed weight is not positive. */
  private record Means(Map<String, float[]> byVector, double weight, double weightedLoss) {}

  /** The means become the round's update; the loss and sample count come from the summed weight. */
  private Collected combine(Means means, SecureAggregationSpec settings,
      List<String> contributors, Map<String, String> dropped) {
    double weight = means.weight();
    if (!(weight > 0)) {
      return new Collected.TooFew("the summed sample weight is " + weight + "; no node reported training samples");
    }
    Map<String, float[]> extras = new LinkedHashMap<>(means.byVector());
    Map<String, Double> metrics = Map.of("loss", means.weightedLoss() / weight);
    // The true total is an integer; the sum carries the quantization error (far below 0.5, docs/security.md).
    double samples = Math.round(weight * settings.maxSamplesPerNode());
    float[] delta = extras.remove(UpdateLayout.DELTA);
    RoundUpdate update = new RoundUpdate(delta, extras, samples, contributors.size(), metrics);
    return new Collected.Combined(new RoundInput.Mean(update), contributors, dropped);
  }

  /**
   * The coordinator's CPU time in this round's protocol, by step, logged and published with the
   * round's progress (metrics {@code secagg_coordinator_cpu_us} and {@code secagg_cpu_<step>_us}),
   * for bench/secure-round-bench.sh and the dashboard. It depends on the number of nodes and the
   * vector length, never on an update's values, so it may travel freely.
   */
  private void reportCpu(int round, StepCpu<UnmaskingStep> cpu) {
    Map<String, Double> metrics = new LinkedHashMap<>();
    long total = cpu.nanos(EnumSet.allOf(UnmaskingStep.class));
    metrics.put("secagg_coordinator_cpu_us", (double) (total / 1_000));
    cpu.byStep().forEach((step, nanos) -> metrics.put("secagg_cpu_" + step.name().toLowerCase(Locale.ROOT) + "_us",
        (double) (nanos / 1_000)));
    log.info("job {} round {}: secure aggregation CPU at the coordinator {} ms ({})", job.id(), round,
        total / 1_000_000, cpu.fields());
    job.progress(round, "TRAIN", "round " + round + "/" + spec.rounds() + " TRAIN: secure aggregation took "
        + total / 1_000_000 + " ms of the coordinator's CPU", metrics);
  }

  /** Wall time per protocol stage, for the log: where a slow secure round spends its time. */
  private static final class StageClock {
    private final Map<String, Long> millis = new LinkedHashMap<>();
    private long last = System.nanoTime();

    void lap(String stage) {
      long now = System.nanoTime();
      millis.put(stage, (now - last) / 1_000_000);
      last = now;
    }

    @Override
    public String toString() {
      StringBuilder out = new StringBuilder();
      millis.forEach((stage, ms) -> out.append(out.isEmpty() ? "" : ", ").append(stage).append(' ').append(ms).append(" ms"));
      return out.toString();
    }
  }

  private Instant stageDeadline() {
    return services.clock().instant().plus(spec.secureAggregation().stageDeadline());
  }

  private Map<String, AgentMessage> awaitStep(Map<String, TaskBoard.Issued> tasks, AgentMessage.BodyCase step,
      Instant deadline, Map<String, String> dropped, String stage) throws InterruptedException {
    return await(tasks, task -> task.secureStep(step).thenApply(m -> (Object) m), deadline, dropped, stage,
        m -> m instanceof AgentMessage message ? message : null);
  }

  /**
   * Waits until every task delivered the awaited message, failed, or the deadline passed; a task
   * whose node failed (disconnected, declined) stops being waited for at once.
   */
  private <T> Map<String, T> await(Map<String, TaskBoard.Issued> tasks,
      Function<TaskBoard.Issued, CompletableFuture<Object>> awaited, Instant deadline, Map<String, String> dropped,
      String stage, Function<Object, T> accept) throws InterruptedException {
    Map<String, CompletableFuture<Object>> outcomes = new TreeMap<>();
    tasks.forEach((node, task) -> {
      // Stop waiting for a node as soon as it is gone or its task failed; a delivered masked
      // vector is success, not a reason to stop waiting for its later stages.
      CompletableFuture<Object> failure = task.result().thenCompose(r -> r instanceof TaskResult.Masked
          ? new CompletableFuture<Object>() : CompletableFuture.completedFuture((Object) r));
      CompletableFuture<Object> gone = task.departed().thenApply(why -> (Object) new TaskResult.Failed(why));
      // A node that refuses a stage after uploading (a check against the coordinator failed) says so.
      CompletableFuture<Object> refused = task.reportedFailed().thenApply(why -> (Object) new TaskResult.Failed(why));
      outcomes.put(node, CompletableFuture.anyOf(awaited.apply(task), failure, gone, refused));
    });
    AtomicInteger answered = new AtomicInteger();
    outcomes.values().forEach(o -> o.thenRun(() -> job.answered(stage, answered, outcomes.size())));
    CompletableFuture<Void> all = CompletableFuture.allOf(outcomes.values().toArray(CompletableFuture[]::new));
    try {
      CompletableFuture.anyOf(all, job.cancellation())
          .get(Math.max(0, deadline.toEpochMilli() - services.clock().millis()), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      // handled below: unanswered nodes are dropped with the deadline as reason
    } catch (ExecutionException e) {
      throw new IllegalStateException("a secure-aggregation future failed unexpectedly", e.getCause());
    }
    Map<String, T> delivered = new TreeMap<>();
    outcomes.forEach((node, outcome) -> {
      Object value = outcome.getNow(null);
      T accepted = value == null ? null : accept.apply(value);
      if (accepted != null) {
        delivered.put(node, accepted);
      } else {
        String reason = value instanceof TaskResult result ? TaskResult.describe(result)
            : job.isCancelled() ? "job cancelled"
            : "no " + stage + " message before its " + seconds(stage.equals("training")
                ? spec.deadlines().training() : spec.secureAggregation().stageDeadline()) + " deadline";
        dropped.putIfAbsent(node, reason + " (secure aggregation: " + stage + ")");
        job.progress(0, "SECURE_AGGREGATION", "node '" + node + "' dropped at " + stage + ": " + reason, Map.of());
      }
    });
    return delivered;
  }

  private static Map<String, TaskBoard.Issued> subset(Map<String, TaskBoard.Issued> tasks, Set<String> keep) {
    Map<String, TaskBoard.Issued> out = new TreeMap<>(tasks);
    out.keySet().retainAll(keep);
    return out;
  }

  private void progress(int round, String text) {
    job.progress(round, "TRAIN", "round " + round + "/" + spec.rounds() + " TRAIN: " + text, Map.of());
  }

  /** Each protocol stage is stored as the round's stage before it starts, like the round's phases. */
  private void stage(int round, String stage, String text) {
    job.progress(round, "SECAGG_" + stage, "round " + round + "/" + spec.rounds() + " secure aggregation: " + text,
        Map.of());
  }

  private static String seconds(Duration duration) {
    return duration.toSeconds() + " s";
  }
}
