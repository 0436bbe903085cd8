package org.medfed.secagg.protocol;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * Runs whole protocol instances in memory with real crypto: a server, n clients, and clients that
 * drop out after a chosen stage. Tests may alter messages on the way, as a lying server would.
 */
final class Harness {
  final SecAggConfig config;
  final SecAggServer server;
  final Map<Integer, SecAggClient> clients = new TreeMap<>();
  final Map<Integer, int[]> inputs = new TreeMap<>();
  /** Clients expand their masks right after sharing keys, as agents do while they train. */
  boolean prepareMasks;

  Harness(SecAggConfig config, long inputSeed) {
    this.config = config;
    this.server = new SecAggServer(config);
    SecureRandom random = new SecureRandom();
    Random values = new Random(inputSeed);
    for (int id : config.graph().participants()) {
      clients.put(id, new SecAggClient(config, id, random));
      inputs.put(id, IntStream.range(0, config.vectorLength()).map(i -> values.nextInt(1 << 20)).toArray());
    }
  }

  static SecAggConfig complete(int n, int threshold, int length) {
    List<Integer> ids = IntStream.rangeClosed(1, n).boxed().toList();
    return new SecAggConfig(context("job-1/round-1/attempt-1"), MaskingGraph.complete(ids), threshold, length);
  }

  static byte[] context(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  Messages.KeyDirectory advertise(Set<Integer> silent) {
    List<Messages.AdvertiseKeys> keys = new ArrayList<>();
    clients.forEach((id, c) -> {
      Messages.AdvertiseKeys k = c.advertiseKeys();
      if (!silent.contains(id)) {
        keys.add(k);
      }
    });
    return server.collectKeys(keys);
  }

  Map<Integer, List<Messages.EncryptedShare>> share(Messages.KeyDirectory directory, Set<Integer> active) {
    List<Messages.ShareKeys> shares = new ArrayList<>();
    for (int id : active) {
      shares.add(clients.get(id).shareKeys(directory));
      if (prepareMasks) {
        clients.get(id).prepareMask();
      }
    }
    return server.routeShares(shares);
  }

  Map<Integer, Messages.UnmaskRequest> mask(Map<Integer, List<Messages.EncryptedShare>> inbox, Set<Integer> active) {
    List<Messages.MaskedInput> masked = new ArrayList<>();
    for (int id : active) {
      masked.add(clients.get(id).maskedInput(inbox.getOrDefault(id, List.of()), inputs.get(id)));
    }
    return server.collectMaskedInputs(masked);
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
    Messages.KeyDirectory directory = advertise(Set.of());
    Set<Integer> active = new TreeSet<>(clients.keySet());
    active.removeAll(dropAfterAdvertise);
    var inbox = share(directory, active);
    active.removeAll(dropAfterShare);
    var requests = mask(inbox, active);
    active.removeAll(dropAfterMask);
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
