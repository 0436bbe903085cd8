package org.medfed.secagg.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.medfed.secagg.SecAggException;

class SecAggProtocolTest {

  private static Set<Integer> ids(int from, int to) {
    return IntStream.rangeClosed(from, to).boxed().collect(Collectors.toCollection(TreeSet::new));
  }

  @ParameterizedTest(name = "n = {0}")
  @ValueSource(ints = {3, 10, 100})
  void unmaskedSum_equalsThePlaintextSumExactly(int n) {
    Harness h = new Harness(Harness.complete(n, SecAggConfig.majority(n), 1000), n);

    int[] sum = h.run(Set.of(), Set.of(), Set.of());

    assertArrayEquals(h.plainSum(ids(1, n)), sum);
  }

  @Test
  void maskedInputs_lookNothingLikeTheInputs() {
    Harness h = new Harness(Harness.complete(3, 2, 256), 1);
    var inbox = h.share(h.advertise(Set.of()), ids(1, 3));
    int[] masked = h.clients.get(1).maskedInput(inbox.get(1), h.inputs.get(1)).masked();

    int equal = 0;
    for (int i = 0; i < masked.length; i++) {
      equal += masked[i] == h.inputs.get(1)[i] ? 1 : 0;
    }
    assertTrue(equal <= 1, equal + " of 256 masked values equal the input");
  }

  @Test
  void dropoutsAfterEachStage_upToNMinusT_giveTheExactSumOfTheSurvivors() {
    int n = 10;
    int t = SecAggConfig.majority(n);  // 6: up to 4 may drop
    Harness h = new Harness(Harness.complete(n, t, 500), 7);

    int[] sum = h.run(Set.of(2), Set.of(5, 9), Set.of(7));

    // Node 7 masked its input before vanishing, so its input is in the sum; 2, 5 and 9 are not.
    assertArrayEquals(h.plainSum(Set.of(1, 3, 4, 6, 7, 8, 10)), sum);
    assertEquals(Set.of(1, 3, 4, 6, 7, 8, 10), h.server.survivors());
  }

  @Test
  void masksPreparedAheadOfStage3_giveTheSameExactSum_alsoWhenNeighboursDropBeforeSharing() {
    int n = 10;
    Harness h = new Harness(Harness.complete(n, SecAggConfig.majority(n), 500), 11);
    h.prepareMasks = true;

    // 2 advertised keys but never shared: every prepared mask holds a pairwise mask for it that
    // stage 3 must take out again.
    int[] sum = h.run(Set.of(2), Set.of(5, 9), Set.of(7));

    assertArrayEquals(h.plainSum(Set.of(1, 3, 4, 6, 7, 8, 10)), sum);
  }

  @Test
  void dropoutsAfterShareKeysOnly_areRecoveredFromTheirMaskingKeyShares() {
    Harness h = new Harness(Harness.complete(10, 6, 300), 3);

    int[] sum = h.run(Set.of(), Set.of(1, 2, 3, 4), Set.of());

    assertArrayEquals(h.plainSum(ids(5, 10)), sum);
  }

  @Test
  void fewerThanThresholdMaskedInputs_abortsWithoutAResult() {
    Harness h = new Harness(Harness.complete(10, 6, 100), 3);
    var inbox = h.share(h.advertise(Set.of()), ids(1, 10));

    SecAggException e = assertThrows(SecAggException.class, () -> h.mask(inbox, ids(1, 5)));

    assertEquals("secure aggregation aborted: only 5 nodes sent masked inputs, below the threshold of 6; "
        + "the round reveals nothing", e.getMessage());
    assertEquals(Stage.ABORTED, h.server.stage());
  }

  @Test
  void fewerThanThresholdUnmaskResponses_abortsWithoutAResult() {
    Harness h = new Harness(Harness.complete(10, 6, 100), 3);
    var requests = h.sign(h.mask(h.share(h.advertise(Set.of()), ids(1, 10)), ids(1, 10)), ids(1, 10));

    SecAggException e = assertThrows(SecAggException.class, () -> h.unmask(requests, ids(1, 5)));

    assertTrue(e.getMessage().contains("only 5 nodes answered the unmasking request"), e.getMessage());
  }

  @Test
  void fewerThanThresholdAdvertisedKeys_abortsAtTheFirstStage() {
    Harness h = new Harness(Harness.complete(5, 3, 10), 3);

    SecAggException e = assertThrows(SecAggException.class, () -> h.advertise(Set.of(1, 2, 3)));

    assertTrue(e.getMessage().contains("only 2 nodes advertised keys, below the threshold of 3"), e.getMessage());
  }

  // --- a lying server -------------------------------------------------------------------------

  /** Every node has masked its input and signed the survivor set; h.signatures holds all n signatures. */
  private static Harness signedUpTo(int n, int t) {
    Harness h = new Harness(Harness.complete(n, t, 50), 11);
    h.sign(h.mask(h.share(h.advertise(Set.of()), ids(1, n)), ids(1, n)), ids(1, n));
    return h;
  }

  @Test
  void client_refuses_whenSurvivorsAndDropoutsOverlap() {
    Harness h = signedUpTo(5, 3);

    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1)
        .unmask(new Messages.UnmaskRequest(1, List.of(1, 2, 3, 4), List.of(4), h.signatures)));

    assertEquals("node 1 aborts secure aggregation: the server listed nodes [4] as both survivors and dropouts, "
        + "which would reveal both shares of each and so their inputs; refusing to unmask", e.getMessage());
    assertEquals(Stage.ABORTED, h.clients.get(1).stage());
  }

  @Test
  void client_refuses_whenListsHoldDuplicates() {
    Harness h = signedUpTo(5, 3);

    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1)
        .unmask(new Messages.UnmaskRequest(1, List.of(1, 2, 2, 3), List.of(), h.signatures)));

    assertTrue(e.getMessage().contains("survivor list contains duplicates"), e.getMessage());
  }

  @Test
  void client_refuses_whenAskedAboutANodeThatWasNotItsNeighbour() {
    // SecAgg+ graph: node 1 has 4 neighbours of 12; ask it about someone else.
    List<Integer> all = new ArrayList<>(ids(1, 12));
    MaskingGraph graph = MaskingGraph.randomRegular(all, 4, 5);
    Harness h = new Harness(new SecAggConfig(Harness.context("c"), graph, 3, 20), 1);
    h.sign(h.mask(h.share(h.advertise(Set.of()), ids(1, 12)), ids(1, 12)), ids(1, 12));
    int stranger = all.stream().filter(v -> v != 1 && !graph.neighbours(1).contains(v)).findFirst().orElseThrow();
    List<Integer> survivors = new ArrayList<>(List.of(1));
    survivors.addAll(graph.neighbours(1));

    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1)
        .unmask(new Messages.UnmaskRequest(1, survivors, List.of(stranger), h.signatures)));

    assertTrue(e.getMessage().contains("asked about nodes [" + stranger + "], which are not neighbours"), e.getMessage());
  }

  @Test
  void client_refuses_whenSurvivorsFallBelowTheThreshold() {
    Harness h = signedUpTo(5, 3);

    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1)
        .unmask(new Messages.UnmaskRequest(1, List.of(1, 2), List.of(3, 4, 5), h.signatures)));

    assertTrue(e.getMessage().contains("only 2 survivors listed, below the threshold of 3"), e.getMessage());
  }

  @Test
  void client_refuses_whenListedAsDroppedItself() {
    Harness h = signedUpTo(5, 3);

    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1)
        .unmask(new Messages.UnmaskRequest(1, List.of(2, 3, 4), List.of(1), h.signatures)));

    assertTrue(e.getMessage().contains("listed node 1 itself as a dropout"), e.getMessage());
  }

  @Test
  void client_refuses_aKeyDirectoryThatListsItsOwnKeys() {
    Harness h = new Harness(Harness.complete(3, 2, 10), 1);
    Messages.KeyDirectory genuine = h.advertise(Set.of()).get(1);
    List<Messages.AdvertiseKeys> forged = new ArrayList<>(genuine.keys());
    Messages.AdvertiseKeys peer = forged.get(0);
    forged.add(new Messages.AdvertiseKeys(1, peer.encryptionKey(), peer.maskingKey()));

    SecAggException e = assertThrows(SecAggException.class,
        () -> h.clients.get(1).shareKeys(new Messages.KeyDirectory(forged)));

    assertEquals("node 1 aborts secure aggregation: the key directory lists node 1's own keys, which it holds; a"
        + " directory carries its neighbours' keys only", e.getMessage());
  }

  // --- a lying server: the consistency check (Bonawitz et al. 2017, malicious setting) ---------------

  /** n = 5, t = 3, every input masked: the server has closed the sum over U3 = {1..5}. */
  private static Harness maskedUpTo(int n, int t) {
    Harness h = new Harness(Harness.complete(n, t, 50), 11);
    h.mask(h.share(h.advertise(Set.of()), ids(1, n)), ids(1, n));
    return h;
  }

  private static Messages.SurvivorSet shown(int to, Set<Integer> survivors) {
    return new Messages.SurvivorSet(to, List.copyOf(survivors));
  }

  @Test
  void survivorThatSignsButThenVanishes_staysInTheExactSum() {
    Harness h = new Harness(Harness.complete(10, 6, 300), 5);

    int[] sum = h.run(Set.of(), Set.of(), Set.of(3), Set.of(4));

    // 3 masked but never signed, 4 signed but never unmasked: both inputs are in the sum.
    assertArrayEquals(h.plainSum(ids(1, 10)), sum);
  }

  @Test
  void serverShowingTwoClientsDifferentSurvivorSets_isRefusedByEveryClient_beforeAnyShareIsRevealed() {
    Harness h = maskedUpTo(5, 3);
    // To unmask node 5 the server needs its masking key shares from some nodes (who must think 5
    // dropped) and its self-mask shares from others (who must think it survived).
    Map<Integer, Messages.UnmaskRequest> lies = new TreeMap<>();
    List<Messages.SurvivorSignature> signatures = new ArrayList<>();
    signatures.add(h.clients.get(1).consistencyCheck(shown(1, ids(1, 4))));
    lies.put(1, new Messages.UnmaskRequest(1, List.of(1, 2, 3, 4), List.of(5), List.of()));
    for (int id = 2; id <= 5; id++) {
      signatures.add(h.clients.get(id).consistencyCheck(shown(id, ids(1, 5))));
      List<Integer> others = new ArrayList<>(ids(1, 5));
      lies.put(id, new Messages.UnmaskRequest(id, others, List.of(), List.of()));
    }

    List<String> refusals = new ArrayList<>();
    for (int id = 1; id <= 5; id++) {
      Messages.UnmaskRequest request = lies.get(id).withSignatures(signatures);
      refusals.add(assertThrows(SecAggException.class, () -> h.clients.get(request.to()).unmask(request)).getMessage());
    }

    assertEquals("node 1 aborts secure aggregation: node 2's signature is not over the survivor set [1, 2, 3, 4] "
        + "node 1 was shown (the signature does not match what it signs): the server showed different nodes "
        + "different survivor sets, or altered the signature; refusing to unmask", refusals.get(0));
    assertTrue(refusals.get(1).startsWith("node 2 aborts secure aggregation: node 1's signature is not over the "
        + "survivor set [1, 2, 3, 4, 5] node 2 was shown"), refusals.get(1));
    h.clients.values().forEach(c -> assertEquals(Stage.ABORTED, c.stage()));
  }

  @Test
  void serverForwardingOnlyMatchingSignatures_getsTheMaskingKeyOfNoOne_andLearnsOnlyTheSum() {
    Harness h = maskedUpTo(5, 3);
    // The lie told to node 1 alone: node 5 dropped. Nodes 2..5 see the truth and sign it.
    Messages.SurvivorSignature fromOne = h.clients.get(1).consistencyCheck(shown(1, ids(1, 4)));
    List<Messages.SurvivorSignature> honest = new ArrayList<>();
    for (int id = 2; id <= 5; id++) {
      honest.add(h.clients.get(id).consistencyCheck(shown(id, ids(1, 5))));
    }
    Map<Integer, Messages.UnmaskRequest> requests = h.server.collectSignatures(honest);

    SecAggException refused = assertThrows(SecAggException.class, () -> h.clients.get(1).unmask(
        new Messages.UnmaskRequest(1, List.of(1, 2, 3, 4), List.of(5), List.of(fromOne))));
    List<Messages.UnmaskResponse> revealed = new ArrayList<>();
    for (int id = 2; id <= 5; id++) {
      revealed.add(h.clients.get(id).unmask(requests.get(id)));
    }

    assertTrue(refused.getMessage().contains("valid signatures over the survivor set [1, 2, 3, 4] from only 1 nodes "
        + "[1], below the threshold of 3"), refused.getMessage());
    revealed.forEach(r -> assertTrue(r.keyShares().isEmpty(), "node " + r.from() + " revealed masking-key shares"));
    // What the others revealed removes the masks of the sum, and of no single input.
    assertArrayEquals(h.plainSum(ids(1, 5)), h.server.unmask(revealed));
  }

  @Test
  void forgedSignature_isRefused() {
    Harness h = signedUpTo(5, 3);
    List<Messages.SurvivorSignature> forged = new ArrayList<>(h.signatures);
    // Node 3's genuine signature relabelled as node 2's.
    forged.set(1, new Messages.SurvivorSignature(2, h.signatures.get(2).signature()));

    SecAggException e = assertThrows(SecAggException.class,
        () -> h.clients.get(1).unmask(request(h, 1, forged)));

    assertTrue(e.getMessage().contains("node 2's signature is not over the survivor set [1, 2, 3, 4, 5] node 1 was "
        + "shown (the signature does not match what it signs)"), e.getMessage());
  }

  @Test
  void oneSignatureRepeated_doesNotCountTwice() {
    Harness h = signedUpTo(5, 3);
    List<Messages.SurvivorSignature> repeated = List.of(h.signatures.get(0), h.signatures.get(1), h.signatures.get(1));

    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1).unmask(request(h, 1, repeated)));

    assertEquals("node 1 aborts secure aggregation: the unmask request carries two signatures of node 2; refusing to "
        + "unmask", e.getMessage());
  }

  @Test
  void fewerThanThresholdSignatures_areRefused() {
    Harness h = signedUpTo(5, 3);

    SecAggException e = assertThrows(SecAggException.class,
        () -> h.clients.get(1).unmask(request(h, 1, h.signatures.subList(0, 2))));

    assertTrue(e.getMessage().contains("valid signatures over the survivor set [1, 2, 3, 4, 5] from only 2 nodes "
        + "[1, 2], below the threshold of 3"), e.getMessage());
  }

  @Test
  void signatureOfANodeOutsideTheSurvivorSet_isRefused() {
    Harness h = new Harness(Harness.complete(5, 3, 50), 11);
    h.mask(h.share(h.advertise(Set.of()), ids(1, 5)), ids(1, 5));
    List<Messages.SurvivorSignature> signatures = new ArrayList<>();
    for (int id = 1; id <= 4; id++) {
      signatures.add(h.clients.get(id).consistencyCheck(shown(id, ids(1, 4))));
    }
    // Node 5 signs a set of its own; its signature is pushed to node 1, which was told 5 dropped.
    signatures.add(h.clients.get(5).consistencyCheck(shown(5, ids(1, 5))));

    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1).unmask(
        new Messages.UnmaskRequest(1, List.of(1, 2, 3, 4), List.of(5), signatures)));

    assertTrue(e.getMessage().contains("carries a signature of node 5, which is not in the survivor set [1, 2, 3, 4]"),
        e.getMessage());
  }

  @Test
  void survivorSetBelowTheThreshold_isNotSigned() {
    Harness h = maskedUpTo(5, 3);

    SecAggException e = assertThrows(SecAggException.class,
        () -> h.clients.get(1).consistencyCheck(shown(1, Set.of(1, 2))));

    assertEquals("node 1 aborts secure aggregation: the survivor set [1, 2] has 2 nodes, below the threshold of 3; "
        + "refusing to sign it", e.getMessage());
    assertEquals(Stage.ABORTED, h.clients.get(1).stage());
  }

  @Test
  void survivorSetWithoutTheClient_isNotSigned() {
    Harness h = maskedUpTo(5, 3);

    SecAggException e = assertThrows(SecAggException.class,
        () -> h.clients.get(1).consistencyCheck(shown(1, ids(2, 5))));

    assertTrue(e.getMessage().contains("the survivor set [2, 3, 4, 5] leaves out node 1 itself"), e.getMessage());
  }

  @Test
  void survivorSetNamingANodeThatNeverSharedKeys_isNotSigned() {
    Harness h = new Harness(Harness.complete(5, 3, 50), 11);
    h.mask(h.share(h.advertise(Set.of()), ids(1, 4)), ids(1, 4));

    SecAggException e = assertThrows(SecAggException.class,
        () -> h.clients.get(1).consistencyCheck(shown(1, ids(1, 5))));

    assertTrue(e.getMessage().contains("lists neighbours [5], which never shared keys with node 1"), e.getMessage());
  }

  @Test
  void unmaskRequestThatDisagreesWithTheSignedSet_isRefused() {
    Harness h = signedUpTo(5, 3);

    // Signed {1..5}; now asked as if 5 had not survived and were not a dropout either.
    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1).unmask(
        new Messages.UnmaskRequest(1, List.of(1, 2, 3, 4), List.of(), h.signatures)));

    assertTrue(e.getMessage().contains("lists survivors [1, 2, 3, 4], but the survivor set node 1 signed holds "
        + "[1, 2, 3, 4, 5]"), e.getMessage());
  }

  /** Node {@code to}'s honest unmask request after everyone signed {1..5}, with {@code signatures} instead. */
  private static Messages.UnmaskRequest request(Harness h, int to, List<Messages.SurvivorSignature> signatures) {
    return new Messages.UnmaskRequest(to, List.copyOf(ids(1, 5)), List.of(), signatures);
  }

  // --- tampered and replayed ciphertexts --------------------------------------------------------

  @Test
  void tamperedShareCiphertext_failsAuthentication() {
    Harness h = new Harness(Harness.complete(3, 2, 10), 1);
    var inbox = h.share(h.advertise(Set.of()), ids(1, 3));
    List<Messages.EncryptedShare> forClient1 = new ArrayList<>(inbox.get(1));
    Messages.EncryptedShare share = forClient1.get(0);
    byte[] bytes = share.ciphertext();
    bytes[20] ^= 1;
    forClient1.set(0, new Messages.EncryptedShare(share.from(), share.to(), bytes));

    SecAggException e = assertThrows(SecAggException.class,
        () -> h.clients.get(1).maskedInput(forClient1, h.inputs.get(1)));

    assertTrue(e.getMessage().contains("failed authentication"), e.getMessage());
  }

  @Test
  void shareReplayedFromAnotherRound_failsAuthentication() {
    SecAggConfig round1 = Harness.complete(3, 2, 10);
    Harness earlier = new Harness(round1, 1);
    var oldInbox = earlier.share(earlier.advertise(Set.of()), ids(1, 3));
    Harness now = new Harness(new SecAggConfig(Harness.context("job-1/round-2/attempt-1"), round1.graph(), 2, 10), 1);
    var inbox = now.share(now.advertise(Set.of()), ids(1, 3));
    List<Messages.EncryptedShare> replayed = new ArrayList<>(inbox.get(1));
    replayed.set(0, oldInbox.get(1).get(0));

    SecAggException e = assertThrows(SecAggException.class,
        () -> now.clients.get(1).maskedInput(replayed, now.inputs.get(1)));

    assertTrue(e.getMessage().contains("failed authentication"), e.getMessage());
  }

  @Test
  void shareRedirectedToAnotherRecipient_isRefused() {
    Harness h = new Harness(Harness.complete(3, 2, 10), 1);
    var inbox = h.share(h.advertise(Set.of()), ids(1, 3));
    Messages.EncryptedShare forTwo = inbox.get(2).stream().filter(s -> s.from() == 3).findFirst().orElseThrow();
    Messages.EncryptedShare relabelled = new Messages.EncryptedShare(forTwo.from(), 1, forTwo.ciphertext());
    List<Messages.EncryptedShare> forged = new ArrayList<>(inbox.get(1));
    forged.removeIf(s -> s.from() == forTwo.from());
    forged.add(relabelled);

    SecAggException e = assertThrows(SecAggException.class,
        () -> h.clients.get(1).maskedInput(forged, h.inputs.get(1)));

    assertTrue(e.getMessage().contains("failed authentication"), e.getMessage());
  }

  // --- SecAgg+ ------------------------------------------------------------------------------------

  @Test
  void randomRegularGraph_givesTheExactSumWithDropouts() {
    List<Integer> all = new ArrayList<>(ids(1, 40));
    MaskingGraph graph = MaskingGraph.randomRegular(all, 12, 99);
    Harness h = new Harness(new SecAggConfig(Harness.context("plus"), graph, 7, 200), 5);

    int[] sum = h.run(Set.of(3), Set.of(17), Set.of(30));

    Set<Integer> survivors = new TreeSet<>(all);
    survivors.removeAll(Set.of(3, 17));
    assertArrayEquals(h.plainSum(survivors), sum);
  }

  @Test
  void randomRegularGraph_isRegularAndSymmetric() {
    List<Integer> all = new ArrayList<>(ids(1, 30));
    MaskingGraph graph = MaskingGraph.randomRegular(all, 6, 1);

    for (int u : all) {
      assertEquals(6, graph.neighbours(u).size());
      for (int v : graph.neighbours(u)) {
        assertTrue(graph.neighbours(v).contains(u), u + " -> " + v + " but not back");
      }
    }
  }

  @Test
  void underSecAggPlus_eachClientGetsOnlyItsNeighbourhoodsKeys_andChecksOnlyItsNeighboursSignatures() {
    int n = 60;
    int k = 6;
    MaskingGraph graph = MaskingGraph.randomRegular(new ArrayList<>(ids(1, n)), k, 21);
    Harness h = new Harness(new SecAggConfig(Harness.context("plus-work"), graph, SecAggConfig.majority(k + 1), 30), 2);

    Map<Integer, Messages.KeyDirectory> directories = h.advertise(Set.of());
    var requests = h.sign(h.mask(h.share(directories, ids(1, n)), ids(1, n)), ids(1, n));
    int[] sum = h.unmask(requests, ids(1, n));

    assertArrayEquals(h.plainSum(ids(1, n)), sum);
    for (int u = 1; u <= n; u++) {
      assertEquals(graph.neighbours(u), directories.get(u).keys().stream().map(Messages.AdvertiseKeys::from)
          .collect(Collectors.toSet()), "node " + u + "'s key directory");
      // t - 1 neighbours' signatures: with its own, which it counts without being sent it, the t it needs.
      int t = SecAggConfig.majority(k + 1);
      assertEquals(t - 1, requests.get(u).signatures().size(), "signatures forwarded to node " + u);
      assertEquals(t - 1, h.verifications.get(u).get(), "signatures node " + u + " verified");
    }
  }

  @Test
  void underSecAggPlus_signaturesOfNodesOutsideTheNeighbourhood_areNeitherCheckedNorCounted() {
    MaskingGraph graph = MaskingGraph.randomRegular(new ArrayList<>(ids(1, 20)), 4, 8);
    Harness h = new Harness(new SecAggConfig(Harness.context("plus-strangers"), graph, 3, 10), 4);
    h.sign(h.mask(h.share(h.advertise(Set.of()), ids(1, 20)), ids(1, 20)), ids(1, 20));
    List<Messages.SurvivorSignature> strangers = h.signatures.stream()
        .filter(s -> s.from() != 1 && !graph.neighbours(1).contains(s.from())).toList();
    List<Integer> survivors = new ArrayList<>(List.of(1));
    survivors.addAll(graph.neighbours(1));

    // All 19 others signed the survivor set, but only node 1's neighbours hold its shares.
    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1)
        .unmask(new Messages.UnmaskRequest(1, survivors, List.of(), strangers)));

    assertTrue(e.getMessage().contains("from only 1 nodes [1], below the threshold of 3 in node 1's neighbourhood"),
        e.getMessage());
    assertEquals(0, h.verifications.get(1).get());
  }

  @Test
  void underSecAggPlus_aKeyDirectoryOfAnotherNeighbourhood_isRefused() {
    MaskingGraph graph = MaskingGraph.randomRegular(new ArrayList<>(ids(1, 20)), 4, 8);
    Harness h = new Harness(new SecAggConfig(Harness.context("plus-directory"), graph, 3, 10), 4);
    Map<Integer, Messages.KeyDirectory> directories = h.advertise(Set.of());
    int stranger = ids(2, 20).stream().filter(v -> !graph.neighbours(1).contains(v)).findFirst().orElseThrow();
    List<Messages.AdvertiseKeys> mixed = new ArrayList<>(directories.get(1).keys());
    mixed.add(directories.values().stream().flatMap(d -> d.keys().stream()).filter(k -> k.from() == stranger)
        .findFirst().orElseThrow());

    SecAggException e = assertThrows(SecAggException.class,
        () -> h.clients.get(1).shareKeys(new Messages.KeyDirectory(mixed)));

    assertEquals("node 1 aborts secure aggregation: the key directory lists node " + stranger + ", which is not a "
        + "neighbour of node 1 in " + graph + "; the coordinator sent another node's neighbourhood", e.getMessage());
  }

  // --- protocol 4's sizes ---------------------------------------------------------------------------

  @Test
  void shareCiphertexts_areTwo33ByteSharesAndATag_orOneShareWhenTEqualsTheHolders() {
    // t < n: both shares, 2 x 33 bytes + the 16-byte tag, no nonce.
    Harness some = new Harness(Harness.complete(5, 3, 10), 31);
    var inbox = some.share(some.advertise(Set.of()), ids(1, 5));
    inbox.values().forEach(shares -> shares.forEach(s -> assertEquals(82, s.ciphertext().length)));
    assertArrayEquals(some.plainSum(ids(1, 5)), some.unmask(some.sign(some.mask(inbox, ids(1, 5)), ids(1, 5)),
        ids(1, 5)));

    // t = n: a masking key could only be rebuilt with its dropped owner's own share, so none is sent.
    Harness all = new Harness(Harness.complete(5, 5, 10), 32);
    var only = all.share(all.advertise(Set.of()), ids(1, 5));
    only.values().forEach(shares -> shares.forEach(s -> assertEquals(49, s.ciphertext().length)));
    Map<Integer, Messages.UnmaskRequest> requests = all.sign(all.mask(only, ids(1, 5)), ids(1, 5));
    requests.values().forEach(r -> assertEquals(4, r.signatures().size(), "t - 1 signatures, not the node's own"));
    assertArrayEquals(all.plainSum(ids(1, 5)), all.unmask(requests, ids(1, 5)));
  }
}
