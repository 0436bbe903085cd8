package org.medfed.nodeagent.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.proto.v1.SecAggKeyDirectory;
import org.medfed.proto.v1.SecAggKeys;
import org.medfed.proto.v1.SecAggPublicKeys;
import org.medfed.proto.v1.SecAggSetup;
import org.medfed.secagg.SecAggException;
import org.medfed.secagg.protocol.Messages;
import org.medfed.trust.pki.CertificateAuthority;
import org.medfed.trust.pki.Role;
import org.medfed.trust.tls.TlsFiles;
import org.medfed.wire.SecAggInstance;

/**
 * A coordinator that relays the round keys tries to slip in keys of its own; the hospital receiving
 * the directory must refuse every variant, with real certificates and signatures.
 */
class SignedRoundKeysTest {
  private static final Instant NOW = Instant.parse("2026-11-25T00:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  private static final byte[] CONTEXT = "job-1/round-3/attempt-7".getBytes(StandardCharsets.UTF_8);
  private static final SecAggSetup SETUP = SecAggSetup.newBuilder().setContext(ByteString.copyFrom(CONTEXT))
      .putAllParticipantIds(Map.of("hospital-a", 1, "hospital-b", 2, "hospital-c", 3)).build();
  /** What every signature of the round covers: the context and the whole setup. */
  private static final byte[] INSTANCE = SecAggInstance.context(SETUP);
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Every certificate the tests issued, by name: what the coordinator holds from the sessions. */
  private static final Map<String, ByteString> ISSUED = new ConcurrentHashMap<>();

  @TempDir Path dir;
  private CertificateAuthority ca;
  private final List<SignedRoundKeys> hospitals = new ArrayList<>();

  @BeforeEach
  void consortium() throws Exception {
    ca = CertificateAuthority.create(dir, "acme", NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(365)));
    for (String name : List.of("hospital-a", "hospital-b", "hospital-c")) {
      hospitals.add(new SignedRoundKeys(Optional.of(material(name, Role.HOSPITAL)), CLOCK));
    }
  }

  @Test
  void anHonestDirectory_isAcceptedAsSent() {
    List<SecAggPublicKeys> directory = honestDirectory();

    Messages.KeyDirectory verified = hospitals.get(1).verified(SETUP, without(directory, 2), 2);

    assertEquals(2, verified.keys().size());
    assertArrayEquals(directory.get(0).getMaskingKey().toByteArray(), verified.keys().get(0).maskingKey());
  }

  @Test
  void aSwappedKey_underTheHospitalsOwnSignature_isRefused() {
    List<SecAggPublicKeys> directory = new ArrayList<>(honestDirectory());
    directory.set(0, directory.get(0).toBuilder().setMaskingKey(ByteString.copyFrom(key())).build());

    assertRefusal("the keys of participant 1 ('hospital-a') are not that hospital's: the signature does not match",
        directory);
  }

  @Test
  void keysTheCoordinatorSignedItself_areRefused() throws Exception {
    SignedRoundKeys coordinator = new SignedRoundKeys(Optional.of(material("coordinator", Role.COORDINATOR)), CLOCK);
    List<SecAggPublicKeys> directory = new ArrayList<>(honestDirectory());
    directory.set(0, entry(1, coordinator.message("t", new Messages.AdvertiseKeys(1, key(), key()), INSTANCE,
        "hospital-a"), "coordinator"));

    assertRefusal("its certificate names 'coordinator' (coordinator", directory);
  }

  @Test
  void keysSignedForAnotherRoundOrAttempt_areRefused() {
    List<SecAggPublicKeys> directory = new ArrayList<>(honestDirectory());
    byte[] earlier = "job-1/round-3/attempt-6".getBytes(StandardCharsets.UTF_8);
    directory.set(2, entry(3, hospitals.get(2).message("t", new Messages.AdvertiseKeys(3, key(), key()), earlier,
        "hospital-c"), "hospital-c"));

    assertRefusal("participant 3 ('hospital-c') are not that hospital's: the signature does not match", directory);
  }

  @Test
  void keysInAnotherParticipantsSlot_areRefused() {
    List<SecAggPublicKeys> directory = new ArrayList<>(honestDirectory());
    // hospital-c's genuine keys, relabelled as hospital-a's.
    directory.set(0, directory.get(2).toBuilder().setId(1).build());

    assertRefusal("participant 1 ('hospital-a') are not that hospital's: its certificate names 'hospital-c'", directory);
  }

  @Test
  void unsignedKeysAndStrangers_areRefused() {
    List<SecAggPublicKeys> unsigned = new ArrayList<>(honestDirectory());
    unsigned.set(0, unsigned.get(0).toBuilder().clearSignature().clearCertificate().build());
    assertRefusal("('hospital-a') are not that hospital's: unsigned", unsigned);

    List<SecAggPublicKeys> stranger = new ArrayList<>(honestDirectory());
    stranger.add(stranger.get(0).toBuilder().setId(9).build());
    assertRefusal("it lists participant 9, who is not in this round's setup", stranger);
  }

  @Test
  void withoutTls_nothingIsSignedOrChecked() {
    SignedRoundKeys plaintext = new SignedRoundKeys(Optional.empty(), CLOCK);
    SecAggKeys message = plaintext.message("t", new Messages.AdvertiseKeys(1, key(), key()), CONTEXT, "hospital-a");

    assertTrue(message.getSignature().isEmpty());
    assertEquals(2, plaintext.verified(SETUP, List.of(entry(1, message, "hospital-a"), entry(3, message, "hospital-c")),
        2).keys().size());
  }

  @Test
  void aDirectoryListingTheHospitalItself_isRefused() {
    String message = assertThrows(SecAggException.class, () -> hospitals.get(1).verified(SETUP, honestDirectory(), 2))
        .getMessage();

    assertEquals("refusing the key directory: it lists participant 2, this hospital itself; since protocol 4 a"
        + " directory carries only the neighbours' keys", message);
  }

  // --- the consistency check's survivor-set signatures ----------------------------------------------

  private static final byte[] SURVIVORS = Messages.SurvivorSet.signedContent(CONTEXT, List.of(1, 2, 3));

  /** Each hospital's view of the round, after it verified the honest key directory. */
  private List<SignedRoundKeys.Round> rounds() {
    List<SecAggPublicKeys> directory = honestDirectory();
    List<SignedRoundKeys.Round> rounds = new ArrayList<>();
    for (int i = 0; i < hospitals.size(); i++) {
      SignedRoundKeys.Round round = hospitals.get(i).round(SETUP);
      round.verified(without(directory, i + 1), i + 1);
      rounds.add(round);
    }
    return rounds;
  }

  @Test
  void survivorSetSignature_verifiesUnderTheCertificateThatSignedThePeersKeys() {
    List<SignedRoundKeys.Round> rounds = rounds();

    byte[] fromA = rounds.get(0).sign(SURVIVORS);

    assertEquals(Optional.empty(), rounds.get(1).problem(1, SURVIVORS, fromA));
    assertEquals(Optional.empty(), rounds.get(0).problem(1, SURVIVORS, fromA));
  }

  @Test
  void survivorSetSignature_overAnotherSet_orInAnotherHospitalsName_isRefused() {
    List<SignedRoundKeys.Round> rounds = rounds();
    byte[] fromA = rounds.get(0).sign(Messages.SurvivorSet.signedContent(CONTEXT, List.of(1, 2)));

    assertEquals(Optional.of("'hospital-a': the signature does not match what it signs"),
        rounds.get(1).problem(1, SURVIVORS, fromA));
    assertEquals(Optional.of("'hospital-c': the signature does not match what it signs"),
        rounds.get(1).problem(3, SURVIVORS, rounds.get(0).sign(SURVIVORS)));
  }

  @Test
  void survivorSetSignature_ofTheCoordinatorOrOfANodeWithoutCertifiedKeys_isRefused() throws Exception {
    SignedRoundKeys.Round coordinator = new SignedRoundKeys(Optional.of(material("coordinator", Role.COORDINATOR)),
        CLOCK).round(SETUP);
    SignedRoundKeys.Round b = hospitals.get(1).round(SETUP);
    b.verified(honestDirectory().subList(2, 3), 2);

    assertEquals(Optional.of("'hospital-c': the signature does not match what it signs"),
        b.problem(3, SURVIVORS, coordinator.sign(SURVIVORS)));
    assertEquals(Optional.of("node 1 has no certified round keys in this round's key directory"),
        b.problem(1, SURVIVORS, hospitals.get(0).round(SETUP).sign(SURVIVORS)));
  }

  // --- SecAgg+: a hospital checks its neighbours' keys and signatures, and nobody else's ---------------

  /** Seven hospitals, SecAgg+ with two neighbours each: every hospital's certified identity. */
  private List<SignedRoundKeys> sevenHospitals() throws Exception {
    List<SignedRoundKeys> seven = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      seven.add(new SignedRoundKeys(Optional.of(material(name(i + 1), Role.HOSPITAL)), CLOCK));
    }
    return seven;
  }

  private static SecAggSetup plusSetup(int threshold) {
    SecAggSetup.Builder setup = SecAggSetup.newBuilder().setContext(ByteString.copyFrom(CONTEXT)).setThreshold(threshold)
        .setNeighbours(2).setGraphSeed(SecAggInstance.graphSeed(CONTEXT));
    for (int id = 1; id <= 7; id++) {
      setup.putParticipantIds(name(id), id);
    }
    return setup.build();
  }

  private static String name(int id) {
    return "hospital-" + (char) ('a' + id - 1);
  }

  /** Every hospital's keys as the coordinator relays them, signed for {@code setup}, by id. */
  private static Map<Integer, SecAggPublicKeys> signedFor(SecAggSetup setup, List<SignedRoundKeys> seven) {
    Map<Integer, SecAggPublicKeys> all = new TreeMap<>();
    for (int id = 1; id <= 7; id++) {
      all.put(id, entry(id, seven.get(id - 1).message("t", new Messages.AdvertiseKeys(id, key(), key()),
          SecAggInstance.context(setup), name(id)), name(id)));
    }
    return all;
  }

  private static List<SecAggPublicKeys> neighbourhood(SecAggSetup setup, Map<Integer, SecAggPublicKeys> all,
      int self) {
    List<SecAggPublicKeys> near = new ArrayList<>();
    SignedRoundKeys.graph(setup).neighbours(self).forEach(v -> near.add(all.get(v)));
    return near;
  }

  @Test
  void underSecAggPlus_aHospitalVerifiesItsNeighboursKeysAndSignaturesOnly() throws Exception {
    List<SignedRoundKeys> seven = sevenHospitals();
    SecAggSetup setup = plusSetup(2);
    Map<Integer, SecAggPublicKeys> all = signedFor(setup, seven);
    SignedRoundKeys.Round round = seven.get(0).round(setup);

    Messages.KeyDirectory verified = round.verified(neighbourhood(setup, all, 1), 1);
    byte[] survivors = Messages.SurvivorSet.signedContent(SecAggInstance.context(setup), List.of(1, 2, 3, 4, 5, 6, 7));
    for (int id = 1; id <= 7; id++) {
      round.problem(id, survivors, seven.get(id - 1).round(setup).sign(survivors));
    }

    assertEquals(2, verified.keys().size());
    // Two neighbours' keys, then survivor-set signatures: its own and its two neighbours'. The four
    // others have no certified keys here, so their signatures are refused without a verification.
    assertEquals(2 + 3, round.verifications());
  }

  @Test
  void underSecAggPlus_aDirectoryListingANonNeighbour_isRefusedBeforeAnySignatureIsChecked() throws Exception {
    List<SignedRoundKeys> seven = sevenHospitals();
    SecAggSetup setup = plusSetup(2);
    Map<Integer, SecAggPublicKeys> all = signedFor(setup, seven);
    List<SecAggPublicKeys> directory = neighbourhood(setup, all, 1);
    int stranger = all.keySet().stream().filter(v -> v != 1 && !SignedRoundKeys.graph(setup).neighbours(1).contains(v))
        .findFirst().orElseThrow();
    directory.add(all.get(stranger));
    SignedRoundKeys.Round round = seven.get(0).round(setup);

    String message = assertThrows(SecAggException.class, () -> round.verified(directory, 1)).getMessage();

    assertEquals("refusing the key directory: it lists participant " + stranger + ", who is not a neighbour of "
        + "participant 1 in " + SignedRoundKeys.graph(setup) + "; the coordinator sent another neighbourhood", message);
    assertEquals(0, round.verifications());
  }

  @Test
  void underSecAggPlus_aNeighboursSwappedKey_isRefused() throws Exception {
    List<SignedRoundKeys> seven = sevenHospitals();
    SecAggSetup setup = plusSetup(2);
    List<SecAggPublicKeys> directory = neighbourhood(setup, signedFor(setup, seven), 1);
    directory.set(0, directory.get(0).toBuilder().setEncryptionKey(ByteString.copyFrom(key())).build());
    int neighbour = directory.get(0).getId();

    String message = assertThrows(SecAggException.class, () -> seven.get(0).round(setup).verified(directory, 1))
        .getMessage();

    assertTrue(message.contains("the keys of participant " + neighbour + " ('" + name(neighbour) + "') are not that "
        + "hospital's: the signature does not match"), message);
  }

  @Test
  void underSecAggPlus_aNeighbourShownAnotherSetup_isRefused() throws Exception {
    List<SignedRoundKeys> seven = sevenHospitals();
    SecAggSetup shownToOne = plusSetup(2);
    // The neighbours signed their keys for the same context but a setup with a lower threshold:
    // the coordinator cannot mix views of one round.
    Map<Integer, SecAggPublicKeys> signedElsewhere = signedFor(plusSetup(3), seven);
    List<SecAggPublicKeys> directory = neighbourhood(shownToOne, signedElsewhere, 1);

    String message = assertThrows(SecAggException.class, () -> seven.get(0).round(shownToOne).verified(directory, 1))
        .getMessage();

    assertTrue(message.contains("are not that hospital's: the signature does not match what it signs"), message);
  }

  // --- a certificate crosses a session once, then travels as its number on the session (protocol 4) ---

  @Test
  void roundKeys_carryTheirKeysAndSignatureOnly() {
    SecAggKeys message = hospitals.get(0).message("t", new Messages.AdvertiseKeys(1, key(), key()), INSTANCE,
        "hospital-a");

    assertEquals(List.of("task_id", "encryption_key", "masking_key", "signature"),
        message.getAllFields().keySet().stream().map(field -> field.getName()).toList());
  }

  @Test
  void aCertificateCarriedOnce_isFoundByItsNumberInLaterRounds() {
    List<SecAggPublicKeys> first = without(honestDirectory(), 2);
    hospitals.get(1).remember(carried(first));
    hospitals.get(1).verified(SETUP, first, 2);

    // A later round: new keys, every certificate named by its number only (a's 1, c's 2).
    List<SecAggPublicKeys> later = numbered(without(honestDirectory(), 2));
    hospitals.get(1).remember(carried(later));
    Messages.KeyDirectory verified = hospitals.get(1).verified(SETUP, later, 2);

    assertEquals(2, verified.keys().size());
  }

  @Test
  void aNumberNoDirectoryCarried_isRefusedSayingWhatTheCoordinatorMustSend() {
    List<SecAggPublicKeys> named = numbered(without(honestDirectory(), 2));

    assertRefusal("('hospital-a') are not that hospital's: it names certificate number 1 of this session, but this"
        + " session carried 0; the coordinator must send each certificate in full the first time a session carries"
        + " it", named);
  }

  @Test
  void aRememberedCertificate_isStillCheckedForTheNameTheSetupGivesItsId() {
    List<SecAggPublicKeys> first = without(honestDirectory(), 2);
    hospitals.get(1).remember(carried(first));
    List<SecAggPublicKeys> later = new ArrayList<>(numbered(without(honestDirectory(), 2)));
    // hospital-c's keys and certificate number, relabelled as hospital-a's.
    later.set(0, later.get(1).toBuilder().setId(1).build());

    assertRefusal("participant 1 ('hospital-a') are not that hospital's: its certificate names 'hospital-c'", later);
  }

  private void assertRefusal(String expected, List<SecAggPublicKeys> directory) {
    String message = assertThrows(SecAggException.class, () -> hospitals.get(1).verified(SETUP,
        without(directory, 2), 2)).getMessage();
    assertTrue(message.startsWith("refusing the key directory: ") && message.contains(expected), message);
  }

  private List<SecAggPublicKeys> honestDirectory() {
    List<SecAggPublicKeys> directory = new ArrayList<>();
    for (int i = 0; i < hospitals.size(); i++) {
      int id = i + 1;
      String name = "hospital-" + (char) ('a' + i);
      directory.add(entry(id, hospitals.get(i).message("t", new Messages.AdvertiseKeys(id, key(), key()), INSTANCE,
          name), name));
    }
    return directory;
  }

  /**
   * What the coordinator relays: the keys message as the hospital sent it, under its id, with the
   * certificate its session presented ({@code signer}'s) in full when the keys are signed.
   */
  private static SecAggPublicKeys entry(int id, SecAggKeys sent, String signer) {
    SecAggPublicKeys.Builder entry = SecAggPublicKeys.newBuilder().setId(id).setEncryptionKey(sent.getEncryptionKey())
        .setMaskingKey(sent.getMaskingKey()).setSignature(sent.getSignature());
    if (!sent.getSignature().isEmpty()) {
      entry.setCertificate(ISSUED.get(signer));
    }
    return entry.build();
  }

  /** The directory as hospital {@code self} receives it: without its own keys. */
  private static List<SecAggPublicKeys> without(List<SecAggPublicKeys> directory, int self) {
    return directory.stream().filter(keys -> keys.getId() != self).toList();
  }

  /** The same entries, each certificate named by its number (1, 2, ... in order), as in a session's later rounds. */
  private static List<SecAggPublicKeys> numbered(List<SecAggPublicKeys> directory) {
    List<SecAggPublicKeys> named = new ArrayList<>();
    for (SecAggPublicKeys keys : directory) {
      named.add(keys.toBuilder().clearCertificate().setCertificateNumber(named.size() + 1).build());
    }
    return named;
  }

  private static SecAggKeyDirectory carried(List<SecAggPublicKeys> directory) {
    return SecAggKeyDirectory.newBuilder().setTaskId("t").addAllKeys(directory).build();
  }

  private TlsFiles.Material material(String name, Role role) throws Exception {
    CertificateAuthority.Issued issued = ca.issue(name, role, List.of(), NOW.minus(Duration.ofDays(1)),
        NOW.plus(Duration.ofDays(30)));
    byte[] der = issued.certificate().getEncoded();
    ISSUED.put(name, ByteString.copyFrom(der));
    return new TlsFiles.Material(issued.certificate(), issued.privateKey(), ca.certificate());
  }

  private static byte[] key() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return key;
  }
}
