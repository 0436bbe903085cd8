package org.medfed.secagg.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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
    var requests = h.mask(h.share(h.advertise(Set.of()), ids(1, 10)), ids(1, 10));

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

  private static Harness maskedUpTo(int n, int t) {
    Harness h = new Harness(Harness.complete(n, t, 50), 11);
    h.mask(h.share(h.advertise(Set.of()), ids(1, n)), ids(1, n));
    return h;
  }

  @Test
  void client_refuses_whenSurvivorsAndDropoutsOverlap() {
    Harness h = maskedUpTo(5, 3);

    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1)
        .unmask(new Messages.UnmaskRequest(1, List.of(1, 2, 3, 4), List.of(4))));

    assertEquals("node 1 aborts secure aggregation: the server listed nodes [4] as both survivors and dropouts, "
        + "which would reveal both shares of each and so their inputs; refusing to unmask", e.getMessage());
    assertEquals(Stage.ABORTED, h.clients.get(1).stage());
  }

  @Test
  void client_refuses_whenListsHoldDuplicates() {
    Harness h = maskedUpTo(5, 3);

    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1)
        .unmask(new Messages.UnmaskRequest(1, List.of(1, 2, 2, 3), List.of())));

    assertTrue(e.getMessage().contains("survivor list contains duplicates"), e.getMessage());
  }

  @Test
  void client_refuses_whenAskedAboutANodeThatWasNotItsNeighbour() {
    // SecAgg+ graph: node 1 has 4 neighbours of 12; ask it about someone else.
    List<Integer> all = new ArrayList<>(ids(1, 12));
    MaskingGraph graph = MaskingGraph.randomRegular(all, 4, 5);
    Harness h = new Harness(new SecAggConfig(Harness.context("c"), graph, 3, 20), 1);
    h.mask(h.share(h.advertise(Set.of()), ids(1, 12)), ids(1, 12));
    int stranger = all.stream().filter(v -> v != 1 && !graph.neighbours(1).contains(v)).findFirst().orElseThrow();
    List<Integer> survivors = new ArrayList<>(List.of(1));
    survivors.addAll(graph.neighbours(1));

    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1)
        .unmask(new Messages.UnmaskRequest(1, survivors, List.of(stranger))));

    assertTrue(e.getMessage().contains("asked about nodes [" + stranger + "], which are not neighbours"), e.getMessage());
  }

  @Test
  void client_refuses_whenSurvivorsFallBelowTheThreshold() {
    Harness h = maskedUpTo(5, 3);

    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1)
        .unmask(new Messages.UnmaskRequest(1, List.of(1, 2), List.of(3, 4, 5))));

    assertTrue(e.getMessage().contains("only 2 survivors listed, below the threshold of 3"), e.getMessage());
  }

  @Test
  void client_refuses_whenListedAsDroppedItself() {
    Harness h = maskedUpTo(5, 3);

    SecAggException e = assertThrows(SecAggException.class, () -> h.clients.get(1)
        .unmask(new Messages.UnmaskRequest(1, List.of(2, 3, 4), List.of(1))));

    assertTrue(e.getMessage().contains("listed node 1 itself as a dropout"), e.getMessage());
  }

  @Test
  void client_refuses_aKeyDirectoryThatAltersItsOwnKeys() {
    Harness h = new Harness(Harness.complete(3, 2, 10), 1);
    Messages.KeyDirectory genuine = h.advertise(Set.of());
    List<Messages.AdvertiseKeys> forged = new ArrayList<>(genuine.keys());
    Messages.AdvertiseKeys mine = forged.get(0);
    forged.set(0, new Messages.AdvertiseKeys(mine.from(), forged.get(1).encryptionKey(), mine.maskingKey()));

    SecAggException e = assertThrows(SecAggException.class,
        () -> h.clients.get(1).shareKeys(new Messages.KeyDirectory(forged)));

    assertTrue(e.getMessage().contains("does not carry node 1's own keys unchanged"), e.getMessage());
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
}
