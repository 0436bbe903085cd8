package org.medfed.secagg.protocol;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.medfed.secagg.SecAggException;
import org.medfed.secagg.crypto.MaskExpander;
import org.medfed.secagg.crypto.Shamir;
import org.medfed.secagg.crypto.ShareCipher;
import org.medfed.secagg.crypto.X25519;

/**
 * One hospital's side of one secure-aggregation instance (Bonawitz et al. 2017, with double
 * masking and the consistency check of the malicious setting). Call the five stage methods in
 * order; each checks what the server sent and refuses, with the reason, anything a lying server
 * could use to unmask this client's input. Keys are made in the constructor, so a new instance
 * (every round and every retry) means fresh keys. Not thread-safe.
 */
public final class SecAggClient {
  private final SecAggConfig config;
  private final int id;
  private final SecureRandom random;
  private final Signatures signatures;
  private final X25519.KeyPair encryptionKeys;
  private final X25519.KeyPair maskingKeys;
  private Stage stage = Stage.ADVERTISE_KEYS;
  private byte[] sessionId;
  private Map<Integer, Messages.AdvertiseKeys> directory;
  private byte[] selfMaskSeed;
  /** Shares this client holds, by owner: [self-mask share, masking-key share or null when the owner made none]. */
  private final Map<Integer, byte[][]> held = new TreeMap<>();
  /** AES-GCM keys agreed with each neighbour in stage 2, kept so stage 3 decrypts without agreeing again. */
  private final Map<Integer, byte[]> agreedShareKeys = new TreeMap<>();
  /** Self mask plus the pairwise masks of every neighbour in the directory, made ahead by {@link #prepareMask}. */
  private int[] preparedMask;
  /** U3 as the server showed it to this client in the consistency check, and as this client signed it. */
  private Set<Integer> signedSurvivors;

  /**
   * @param signatures this participant's long-term identity and the other participants' (for the
   *     consistency check)
   */
  public SecAggClient(SecAggConfig config, int id, SecureRandom random, Signatures signatures) {
    if (!config.graph().contains(id)) {
      throw new IllegalArgumentException("client " + id + " is not a participant of " + config.graph());
    }
    this.config = config;
    this.id = id;
    this.random = random;
    this.signatures = signatures;
    this.encryptionKeys = X25519.generate(random);
    this.maskingKeys = X25519.generate(random);
  }

  public Stage stage() {
    return stage;
  }

  /** Stage 1: this round's two public keys. */
  public Messages.AdvertiseKeys advertiseKeys() {
    expect(Stage.ADVERTISE_KEYS);
    stage = Stage.SHARE_KEYS;
    return new Messages.AdvertiseKeys(id, encryptionKeys.publicKey(), maskingKeys.publicKey());
  }

  /**
   * Stage 2: split the self-mask seed and masking key among the neighbours, encrypted to each.
   * {@code keys} are the keys of this node's neighbours that advertised (protocol 4: not its own,
   * which it holds); a directory naming any other node, this one included, is refused.
   */
  public Messages.ShareKeys shareKeys(Messages.KeyDirectory keys) {
    expect(Stage.SHARE_KEYS);
    directory = checkDirectory(keys);
    sessionId = Session.id(config.context());
    selfMaskSeed = new byte[Session.SECRET_BYTES];
    random.nextBytes(selfMaskSeed);
    // Shares for this client's shareholders only: its neighbours under SecAgg+, not every participant.
    Set<Integer> holders = shareholders();
    Map<Integer, byte[]> selfShares = Shamir.split(selfMaskSeed, config.threshold(), holders, random);
    // The masking key is reconstructed only if this node drops out, from its other holders' shares:
    // with exactly t holders (t = n on the complete graph) they are t - 1 and can never do it, so
    // such shares would be bytes for nothing and are not made (protocol 4).
    Optional<Map<Integer, byte[]>> keyShares = holders.size() > config.threshold()
        ? Optional.of(Shamir.split(maskingKeys.privateKey(), config.threshold(), holders, random))
        : Optional.empty();
    List<Messages.EncryptedShare> out = new ArrayList<>();
    for (int peer : holders) {
      byte[] selfShare = selfShares.get(peer);
      byte[] keyShare = keyShares.map(shares -> shares.get(peer)).orElse(null);
      if (peer == id) {
        held.put(id, new byte[][] {selfShare, keyShare});
        continue;
      }
      byte[] key = shareKey(peer);
      byte[] plaintext = keyShare == null ? selfShare : concat(selfShare, keyShare);
      out.add(new Messages.EncryptedShare(id, peer,
          ShareCipher.encrypt(key, Session.nonce(id, peer), Session.associatedData(sessionId, id, peer),
              plaintext)));
    }
    stage = Stage.MASKED_INPUT;
    return new Messages.ShareKeys(id, Session.commitment(sessionId, selfMaskSeed), out);
  }

  /**
   * Optional, between stages 2 and 3: expands the mask ahead of time (for example while the model
   * trains), since it depends only on this client's seed and the key directory. Stage 3 then only
   * removes the pairwise masks of neighbours that turn out not to have shared keys, and adds.
   */
  public void prepareMask() {
    expect(Stage.MASKED_INPUT);
    int[] mask = new int[config.vectorLength()];
    MaskExpander.apply(mask, selfMaskSeed, 1);
    for (int peer : config.graph().neighbours(id)) {
      if (peer != id && directory.containsKey(peer)) {
        MaskExpander.apply(mask, pairSeed(peer), Session.pairSign(id, peer));
      }
    }
    preparedMask = mask;
  }

  /**
   * Stage 3: decrypts the shares peers sent, then masks {@code input} with the self mask and a
   * pairwise mask for every peer that shared keys.
   */
  public Messages.MaskedInput maskedInput(List<Messages.EncryptedShare> received, int[] input) {
    expect(Stage.MASKED_INPUT);
    if (input.length != config.vectorLength()) {
      throw new IllegalArgumentException("input has " + input.length + " values, the instance sums "
          + config.vectorLength());
    }
    Set<Integer> neighbours = config.graph().neighbours(id);
    for (Messages.EncryptedShare share : received) {
      int from = share.from();
      if (share.to() != id) {
        throw abort("the server delivered a share addressed to node " + share.to() + " to node " + id);
      }
      if (!neighbours.contains(from) || !directory.containsKey(from)) {
        throw abort("the server delivered a share from node " + from + ", which is not a neighbour that advertised keys");
      }
      if (held.containsKey(from)) {
        throw abort("the server delivered two shares from node " + from);
      }
      byte[] key = shareKey(from);
      byte[] plaintext;
      try {
        plaintext = ShareCipher.decrypt(key, Session.nonce(from, id), Session.associatedData(sessionId, from, id),
            share.ciphertext());
      } catch (SecAggException e) {
        throw abort("share from node " + from + ": " + e.getMessage());
      }
      if (plaintext.length != Shamir.SHARE_BYTES && plaintext.length != 2 * Shamir.SHARE_BYTES) {
        throw abort("the shares from node " + from + " decrypt to " + plaintext.length + " bytes, not one or two "
            + Shamir.SHARE_BYTES + "-byte shares");
      }
      // A self-mask share, then a masking-key share unless the sender has only t holders (see shareKeys).
      held.put(from, new byte[][] {
          Arrays.copyOfRange(plaintext, 0, Shamir.SHARE_BYTES),
          plaintext.length == Shamir.SHARE_BYTES ? null : Arrays.copyOfRange(plaintext, Shamir.SHARE_BYTES,
              plaintext.length)});
    }
    if (held.size() < config.threshold()) {
      throw abort("only " + held.size() + " nodes (including this one) shared keys with node " + id
          + ", below the threshold of " + config.threshold());
    }
    int[] masked;
    if (preparedMask != null) {
      // Neighbours that advertised keys but did not share them are not in the sum: take their masks out.
      for (int peer : directory.keySet()) {
        if (peer != id && config.graph().neighbours(id).contains(peer) && !held.containsKey(peer)) {
          MaskExpander.apply(preparedMask, pairSeed(peer), -Session.pairSign(id, peer));
        }
      }
      masked = preparedMask;
      preparedMask = null;
      for (int i = 0; i < masked.length; i++) {
        masked[i] += input[i];
      }
    } else {
      masked = input.clone();
      MaskExpander.apply(masked, selfMaskSeed, 1);
      for (int peer : held.keySet()) {
        if (peer != id) {
          MaskExpander.apply(masked, pairSeed(peer), Session.pairSign(id, peer));
        }
      }
    }
    stage = Stage.CONSISTENCY_CHECK;
    return Messages.MaskedInput.owning(id, masked);
  }

  private byte[] shareKey(int peer) {
    return agreedShareKeys.computeIfAbsent(peer,
        p -> Session.shareKey(encryptionKeys.privateKey(), directory.get(p).encryptionKey(), sessionId));
  }

  private byte[] pairSeed(int peer) {
    return Session.pairSeed(maskingKeys.privateKey(), directory.get(peer).maskingKey(), sessionId);
  }

  /**
   * Stage 4, the consistency check: signs the survivor set U3 the server shows, once it is a set of
   * at least t participants that contains this node and, in this node's neighbourhood, only nodes
   * that shared keys with it. This client then reveals shares only for exactly this set.
   */
  public Messages.SurvivorSignature consistencyCheck(Messages.SurvivorSet shown) {
    expect(Stage.CONSISTENCY_CHECK);
    if (shown.to() != id) {
      throw abort("the survivor set addressed to node " + shown.to() + " was delivered to node " + id);
    }
    Set<Integer> survivors = distinct("survivor", shown.survivors());
    Set<Integer> strangers = new TreeSet<>(survivors);
    strangers.removeIf(config.graph()::contains);
    if (!strangers.isEmpty()) {
      throw abort("the survivor set " + survivors + " names nodes " + strangers + ", which are not participants");
    }
    if (!survivors.contains(id)) {
      throw abort("the survivor set " + survivors + " leaves out node " + id + " itself, which sent its masked input");
    }
    if (survivors.size() < config.threshold()) {
      throw abort("the survivor set " + survivors + " has " + survivors.size() + " nodes, below the threshold of "
          + config.threshold() + "; refusing to sign it");
    }
    Set<Integer> neverShared = new TreeSet<>(survivors);
    neverShared.retainAll(config.graph().neighbours(id));
    neverShared.removeAll(held.keySet());
    if (!neverShared.isEmpty()) {
      throw abort("the survivor set lists neighbours " + neverShared + ", which never shared keys with node " + id
          + ", so their masked inputs cannot be in the sum");
    }
    signedSurvivors = survivors;
    stage = Stage.UNMASKING;
    return new Messages.SurvivorSignature(id,
        signatures.sign(Messages.SurvivorSet.signedContent(config.context(), survivors)));
  }

  /**
   * Stage 5: reveals self-mask shares of survivors and masking-key shares of dropouts, after the
   * checks that stop a lying server from unmasking any single input. The request must carry at
   * least t valid signatures, from distinct members of the survivor set this node signed, over that
   * very set: a server that showed other nodes another set cannot gather t signatures for both, as
   * long as 2t exceeds the number of participants plus those colluding with it. The lists must then
   * agree with that set, not overlap, hold no duplicates and name only nodes that shared keys with
   * this one.
   */
  public Messages.UnmaskResponse unmask(Messages.UnmaskRequest request) {
    expect(Stage.UNMASKING);
    if (request.to() != id) {
      throw abort("unmask request addressed to node " + request.to() + " was delivered to node " + id);
    }
    checkSignatures(request.signatures());
    Set<Integer> survivors = distinct("survivor", request.survivors());
    Set<Integer> dropouts = distinct("dropout", request.dropouts());
    Set<Integer> both = new TreeSet<>(survivors);
    both.retainAll(dropouts);
    if (!both.isEmpty()) {
      throw abort("the server listed nodes " + both + " as both survivors and dropouts, which would reveal both "
          + "shares of each and so their inputs; refusing to unmask");
    }
    Set<Integer> strangers = new TreeSet<>(survivors);
    strangers.addAll(dropouts);
    strangers.removeAll(held.keySet());
    if (!strangers.isEmpty()) {
      throw abort("the server asked about nodes " + strangers + ", which are not neighbours that shared keys with node "
          + id + "; refusing to unmask");
    }
    if (!survivors.contains(id)) {
      throw abort("the server listed node " + id + " itself as a dropout; refusing to unmask");
    }
    if (survivors.size() < config.threshold()) {
      throw abort("only " + survivors.size() + " survivors listed, below the threshold of " + config.threshold()
          + "; refusing to unmask");
    }
    Set<Integer> signedHere = new TreeSet<>(signedSurvivors);
    signedHere.retainAll(config.graph().neighbours(id));
    signedHere.add(id);
    if (!survivors.equals(signedHere)) {
      throw abort("the unmask request lists survivors " + survivors + ", but the survivor set node " + id
          + " signed holds " + signedHere + " of its neighbourhood; refusing to unmask");
    }
    Set<Integer> unshared = new TreeSet<>(dropouts);
    unshared.removeIf(v -> held.get(v)[1] != null);
    if (!unshared.isEmpty()) {
      throw abort("the server asks for the masking keys of dropouts " + unshared + ", which shared them with only"
          + " the threshold of " + config.threshold() + " holders including themselves, so no set of survivors can"
          + " reconstruct them; the round cannot recover from their dropping out");
    }
    Map<Integer, byte[]> selfMaskShares = new TreeMap<>();
    Map<Integer, byte[]> keyShares = new TreeMap<>();
    survivors.forEach(v -> selfMaskShares.put(v, held.get(v)[0]));
    dropouts.forEach(v -> keyShares.put(v, held.get(v)[1]));
    stage = Stage.DONE;
    return new Messages.UnmaskResponse(id, selfMaskShares, keyShares);
  }

  /** The nodes this client shares its secrets with: its neighbours that advertised keys, and itself. */
  private Set<Integer> shareholders() {
    Set<Integer> holders = new TreeSet<>(config.graph().neighbours(id));
    holders.retainAll(directory.keySet());
    holders.add(id);
    return holders;
  }

  private Map<Integer, Messages.AdvertiseKeys> checkDirectory(Messages.KeyDirectory keys) {
    Map<Integer, Messages.AdvertiseKeys> byId = new TreeMap<>();
    for (Messages.AdvertiseKeys k : keys.keys()) {
      if (!config.graph().contains(k.from())) {
        throw abort("the key directory lists node " + k.from() + ", which is not a participant");
      }
      if (k.from() == id) {
        throw abort("the key directory lists node " + id + "'s own keys, which it holds; a directory carries its"
            + " neighbours' keys only");
      }
      // A directory holds this node's neighbours only: the keys it agrees with and shares to.
      if (!config.graph().neighbours(id).contains(k.from())) {
        throw abort("the key directory lists node " + k.from() + ", which is not a neighbour of node " + id + " in "
            + config.graph() + "; the coordinator sent another node's neighbourhood");
      }
      if (byId.put(k.from(), k) != null) {
        throw abort("the key directory lists node " + k.from() + " twice");
      }
    }
    byId.put(id, new Messages.AdvertiseKeys(id, encryptionKeys.publicKey(), maskingKeys.publicKey()));
    Set<Integer> reachable = new HashSet<>(config.graph().neighbours(id));
    reachable.retainAll(byId.keySet());
    if (reachable.size() + 1 < config.threshold()) {
      throw abort("only " + (reachable.size() + 1) + " nodes of node " + id + "'s neighbourhood advertised keys, "
          + "below the threshold of " + config.threshold());
    }
    return byId;
  }

  /**
   * At least t valid signatures over the survivor set this node signed, each from a distinct member
   * of it in this node's neighbourhood: the nodes holding its shares, of which t is a majority
   * (Bell et al. 2020). Signatures of other nodes are not checked and do not count, so a node
   * verifies at most k + 1 signatures, not n.
   */
  private void checkSignatures(List<Messages.SurvivorSignature> received) {
    byte[] content = Messages.SurvivorSet.signedContent(config.context(), signedSurvivors);
    Set<Integer> neighbourhood = config.graph().neighbours(id);
    // This node signed that very set itself (stage 4): its own signature counts without travelling.
    Set<Integer> signers = new TreeSet<>(Set.of(id));
    for (Messages.SurvivorSignature signature : received) {
      int signer = signature.from();
      if (!signedSurvivors.contains(signer)) {
        throw abort("the unmask request carries a signature of node " + signer + ", which is not in the survivor set "
            + signedSurvivors + " node " + id + " signed; refusing to unmask");
      }
      if (signer == id || !neighbourhood.contains(signer)) {
        continue;  // its own (counted above), or not a shareholder of this node: neither checked nor counted
      }
      if (!signers.add(signer)) {
        throw abort("the unmask request carries two signatures of node " + signer + "; refusing to unmask");
      }
      Optional<String> problem = signatures.problem(signer, content, signature.signature());
      if (problem.isPresent()) {
        throw abort("node " + signer + "'s signature is not over the survivor set " + signedSurvivors + " node " + id
            + " was shown (" + problem.get() + "): the server showed different nodes different survivor sets, or "
            + "altered the signature; refusing to unmask");
      }
    }
    if (signers.size() < config.threshold()) {
      throw abort("the unmask request carries valid signatures over the survivor set " + signedSurvivors + " from only "
          + signers.size() + " nodes " + signers + ", below the threshold of " + config.threshold()
          + " in node " + id + "'s neighbourhood; refusing to unmask");
    }
  }

  private Set<Integer> distinct(String kind, List<Integer> ids) {
    Set<Integer> set = new TreeSet<>(ids);
    if (set.size() != ids.size()) {
      throw abort("the server's " + kind + " list contains duplicates: " + ids);
    }
    return set;
  }

  private void expect(Stage expected) {
    if (stage != expected) {
      throw new IllegalStateException("client " + id + " is at stage " + stage + ", not " + expected);
    }
  }

  private SecAggException abort(String reason) {
    stage = Stage.ABORTED;
    return new SecAggException("node " + id + " aborts secure aggregation: " + reason);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
