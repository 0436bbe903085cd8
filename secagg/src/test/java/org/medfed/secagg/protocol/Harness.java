package org.medfed.secagg.protocol;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * Runs whole protocol instances in memory with real crypto: a server, n clients with Ed25519
 * identities, and clients that drop out after a chosen stage. Tests may alter messages on the way,
 * as a lying server would.
 */
final class Harness {
  final SecAggConfig config;
  final SecAggServer server;
  final Map<Integer, SecAggClient> clients = new TreeMap<>();
  final Map<Integer, int[]> inputs = new TreeMap<>();
  final LocalSignatures identities;
  /** The survivor-set signatures the server forwarded at the end of the consistency check. */
  final List<Messages.SurvivorSignature> signatures = new ArrayList<>();
  /** Signatures each client verified, by client: a client's work must follow its neighbourhood, not n. */
  final Map<Integer, AtomicInteger> verifications = new TreeMap<>();
  /** Clients expand their masks right after sharing keys, as agents do while they train. */
  boolean prepareMasks;

  Harness(SecAggConfig config, long inputSeed) {
    this.config = config;
    this.server = new SecAggServer(config);
    SecureRandom random = new SecureRandom();
    Random values = new Random(inputSeed);
    identities = new LocalSignatures(config.graph().participants());
    for (int id : config.graph().participants()) {
      clients.put(id, new SecAggClient(config, id, random, counting(id, identities.of(id))));
      inputs.put(id, IntStream.range(0, config.vectorLength()).map(i -> values.nextInt(1 << 20)).toArray());
    }
  }

  private Signatures counting(int id, Signatures inner) {
    AtomicInteger count = verifications.computeIfAbsent(id, i -> new AtomicInteger());
    return new Signatures() {
      @Override
      public byte[] sign(byte[] content) {
        return inner.sign(content);
      }

      @Override
      public Optional<String> problem(int signer, byte[] content, byte[] signature) {
        count.incrementAndGet();
        return inner.problem(signer, content, signature);
      }
    };
  }

  static SecAggConfig complete(int n, int threshold, int length) {
    List<Integer> ids = IntStream.rangeClosed(1, n).boxed().toList();
    return new SecAggConfig(context("job-1/round-1/attempt-1"), MaskingGraph.complete(ids), threshold, length);
  }

  static byte[] context(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** Stage 1: each advertiser's neighbourhood directory, by id. */
  Map<Integer, Messages.KeyDirectory> advertise(Set<Integer> silent) {
    List<Messages.AdvertiseKeys> keys = new ArrayList<>();
    clients.forEach((id, c) -> {
      Messages.AdvertiseKeys k = c.advertiseKeys();
      if (!silent.contains(id)) {
        keys.add(k);
      }
    });
    return server.collectKeys(keys);
  }

  Map<Integer, List<Messages.EncryptedShare>> share(Map<Integer, Messages.KeyDirectory> directories,
      Set<Integer> active) {
    List<Messages.ShareKeys> shares = new ArrayList<>();
    for (int id : active) {
      shares.add(clients.get(id).shareKeys(directories.get(id)));
      if (prepareMasks) {
        clients.get(id).prepareMask();
      }
    }
    return server.routeShares(shares);
  }

  Map<Integer, Messages.SurvivorSet> mask(Map<Integer, List<Messages.EncryptedShare>> inbox, Set<Integer> active) {
    List<Messages.MaskedInput> masked = new ArrayList<>();
    for (int id : active) {
      masked.add(clients.get(id).maskedInput(inbox.getOrDefault(id, List.of()), inputs.get(id)));
    }
    return server.collectMaskedInputs(masked);
  }

  /** The consistency check: each active client signs the set it was shown; the server forwards the signatures. */
  Map<Integer, Messages.UnmaskRequest> sign(Map<Integer, Messages.SurvivorSet> shown, Set<Integer> active) {
    signatures.clear();
    for (int id : active) {
      signatures.add(clients.get(id).consistencyCheck(shown.get(id)));
    }
    return server.collectSignatures(signatures);
  }

  int[] unmask(Map<Integer, Messages.UnmaskRequest> requests, Set<Integer> active) {
    List<Messages.UnmaskResponse> responses = new ArrayList<>();
    for (int id : active) {
      responses.add(clients.get(id).unmask(requests.get(id)));
    }
    return server.unmask(responses);
  }

  /** The whole protocol; nodes in {@code dropAfter[s]} stop answering after stage s (0..2). */
  int[] run(Set<Integer> dropAfterAdvertise, Set<Integer> dropAfterShare, Set<Integer> dropAfterMask) {
    return run(dropAfterAdvertise, dropAfterShare, dropAfterMask, Set.of());
  }

  /** As above, and nodes in {@code dropAfterSign} stop after signing the survivor set. */
  int[] run(Set<Integer> dropAfterAdvertise, Set<Integer> dropAfterShare, Set<Integer> dropAfterMask,
      Set<Integer> dropAfterSign) {
    Map<Integer, Messages.KeyDirectory> directory = advertise(Set.of());
    Set<Integer> active = new TreeSet<>(clients.keySet());
    active.removeAll(dropAfterAdvertise);
    var inbox = share(directory, active);
    active.removeAll(dropAfterShare);
    var shown = mask(inbox, active);
    active.removeAll(dropAfterMask);
    var requests = sign(shown, active);
    active.removeAll(dropAfterSign);
    return unmask(requests, active);
  }

  int[] plainSum(Set<Integer> of) {
    int[] sum = new int[config.vectorLength()];
    for (int id : of) {
      int[] x = inputs.get(id);
      for (int i = 0; i < sum.length; i++) {
        sum[i] += x[i];
      }
    }
    return sum;
  }
}
