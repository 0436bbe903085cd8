package org.medfed.secagg.protocol;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.medfed.secagg.SecAggException;
import org.medfed.secagg.crypto.MaskExpander;
import org.medfed.secagg.crypto.Shamir;
import org.medfed.secagg.crypto.X25519;

/**
 * The coordinator's side of one secure-aggregation instance. It routes what the clients send and,
 * at the end, learns only the sum of the survivors' inputs: individual masked vectors are folded
 * into a running sum on arrival and never kept. Below the threshold at any stage it aborts and
 * reveals nothing. Not thread-safe: the caller serialises the stage calls.
 */
public final class SecAggServer {
  private final SecAggConfig config;
  private Stage stage = Stage.ADVERTISE_KEYS;
  private final Map<Integer, Messages.AdvertiseKeys> keys = new TreeMap<>();
  private final Map<Integer, byte[]> commitments = new TreeMap<>();
  private final Set<Integer> survivors = new TreeSet<>();
  /** Survivors whose signatures over the survivor set were forwarded: the only nodes asked to unmask. */
  private final Set<Integer> signers = new TreeSet<>();
  private byte[] sessionId;
  private int[] sum;

  public SecAggServer(SecAggConfig config) {
    this.config = config;
  }

  public Stage stage() {
    return stage;
  }

  /**
   * Stage 1: requires at least t clients' keys, and gives each of them the keys of its neighbours
   * that answered, the only ones it uses (protocol 4: not its own, which it holds). Under SecAgg+
   * (Bell et al. 2020) a directory then holds k entries, not n, so a client checks k signatures and
   * certificates per round instead of n.
   *
   * @return each advertiser's key directory, by id
   */
  public Map<Integer, Messages.KeyDirectory> collectKeys(List<Messages.AdvertiseKeys> advertised) {
    expect(Stage.ADVERTISE_KEYS);
    for (Messages.AdvertiseKeys k : advertised) {
      if (!config.graph().contains(k.from())) {
        throw abort("keys from node " + k.from() + ", which is not a participant");
      }
      if (keys.put(k.from(), k) != null) {
        throw abort("node " + k.from() + " advertised keys twice");
      }
    }
    requireThreshold(keys.size(), "advertised keys");
    sessionId = Session.id(config.context());
    Map<Integer, Messages.KeyDirectory> directories = new TreeMap<>();
    for (int u : keys.keySet()) {
      Set<Integer> near = new TreeSet<>(config.graph().neighbours(u));
      near.retainAll(keys.keySet());
      directories.put(u, new Messages.KeyDirectory(near.stream().map(keys::get).toList()));
    }
    stage = Stage.SHARE_KEYS;
    return directories;
  }

  /** Stage 2: routes each encrypted share to its recipient; requires at least t senders. */
  public Map<Integer, List<Messages.EncryptedShare>> routeShares(List<Messages.ShareKeys> shared) {
    expect(Stage.SHARE_KEYS);
    Map<Integer, List<Messages.EncryptedShare>> inbox = new TreeMap<>();
    for (Messages.ShareKeys message : shared) {
      if (!keys.containsKey(message.from())) {
        throw abort("shares from node " + message.from() + ", which did not advertise keys");
      }
      if (commitments.put(message.from(), message.selfMaskCommitment()) != null) {
        throw abort("node " + message.from() + " sent its shares twice");
      }
      for (Messages.EncryptedShare share : message.shares()) {
        if (share.from() != message.from()) {
          throw abort("node " + message.from() + " sent a share claiming to be from node " + share.from());
        }
        inbox.computeIfAbsent(share.to(), to -> new ArrayList<>()).add(share);
      }
    }
    requireThreshold(commitments.size(), "shared keys");
    // Only senders' shares count: a client masks with exactly the peers whose shares it receives.
    Map<Integer, List<Messages.EncryptedShare>> routed = new TreeMap<>();
    for (int recipient : commitments.keySet()) {
      routed.put(recipient, List.copyOf(inbox.getOrDefault(recipient, List.of())));
    }
    sum = new int[config.vectorLength()];
    stage = Stage.MASKED_INPUT;
    return routed;
  }

  /**
   * Stage 3: adds each masked vector to the running sum, then shows every survivor the survivor
   * set; requires at least t masked inputs.
   */
  public Map<Integer, Messages.SurvivorSet> collectMaskedInputs(List<Messages.MaskedInput> inputs) {
    inputs.forEach(this::addMaskedInput);
    return closeMaskedInputs();
  }

  /**
   * Stage 3, one input at a time: adds it to the running sum as it arrives, so the server never
   * holds more than one masked vector besides the sum. Close the stage with {@link #closeMaskedInputs}.
   */
  public void addMaskedInput(Messages.MaskedInput input) {
    expect(Stage.MASKED_INPUT);
    if (!commitments.containsKey(input.from())) {
      throw abort("masked input from node " + input.from() + ", which did not share keys");
    }
    if (input.length() != sum.length) {
      throw abort("masked input from node " + input.from() + " has " + input.length() + " values, expected "
          + sum.length);
    }
    if (!survivors.add(input.from())) {
      throw abort("node " + input.from() + " sent its masked input twice");
    }
    input.addInto(sum);
  }

  /**
   * Ends stage 3: the nodes whose inputs were added are the survivors, U3. Each is shown U3 to sign
   * (the consistency check).
   */
  public Map<Integer, Messages.SurvivorSet> closeMaskedInputs() {
    expect(Stage.MASKED_INPUT);
    requireThreshold(survivors.size(), "sent masked inputs");
    Map<Integer, Messages.SurvivorSet> shown = new TreeMap<>();
    List<Integer> all = List.copyOf(survivors);
    survivors.forEach(u -> shown.put(u, new Messages.SurvivorSet(u, all)));
    stage = Stage.CONSISTENCY_CHECK;
    return shown;
  }

  /**
   * Stage 4: takes the survivors' signatures over the survivor set (the caller, who holds the
   * certificates, drops any that do not verify) and asks each signer to help unmask, forwarding t - 1
   * of its neighbours' signatures, which with its own make the t it requires; requires at least t
   * signers. A survivor that did not sign is still in the sum:
   * its self mask is removed with its peers' shares like any other survivor's.
   */
  public Map<Integer, Messages.UnmaskRequest> collectSignatures(List<Messages.SurvivorSignature> signatures) {
    expect(Stage.CONSISTENCY_CHECK);
    for (Messages.SurvivorSignature signature : signatures) {
      if (!survivors.contains(signature.from())) {
        throw abort("a survivor-set signature from node " + signature.from() + ", whose masked input is not in the sum");
      }
      if (!signers.add(signature.from())) {
        throw abort("node " + signature.from() + " signed the survivor set twice");
      }
    }
    requireThreshold(signers.size(), "signed the survivor set");
    Map<Integer, Messages.SurvivorSignature> bySigner = new TreeMap<>();
    signatures.forEach(s -> bySigner.put(s.from(), s));
    Map<Integer, Messages.UnmaskRequest> requests = new TreeMap<>();
    for (int u : signers) {
      List<Integer> alive = new ArrayList<>();
      List<Integer> dropped = new ArrayList<>();
      // Only signatures a client counts, and no more than it needs: t - 1 of its neighbours' (its
      // shareholders'); its own it counts without being sent it.
      List<Messages.SurvivorSignature> forwarded = new ArrayList<>();
      alive.add(u);
      for (int v : config.graph().neighbours(u)) {
        if (survivors.contains(v)) {
          alive.add(v);
        } else if (commitments.containsKey(v)) {
          dropped.add(v);
        }
        if (bySigner.containsKey(v) && forwarded.size() < config.threshold() - 1) {
          forwarded.add(bySigner.get(v));
        }
      }
      requests.put(u, new Messages.UnmaskRequest(u, alive, dropped, forwarded));
    }
    stage = Stage.UNMASKING;
    return requests;
  }

  /** The nodes whose inputs are in the sum. */
  public Set<Integer> survivors() {
    return Set.copyOf(survivors);
  }

  /**
   * Stage 5: reconstructs the survivors' self masks and the dropouts' masking keys from at least t
   * shares each, verifies every reconstruction, and only then strips the masks. The masks are
   * stripped from the running sum itself, which is handed over: no second model-sized array (issue
   * 16 item 2). A failed reconstruction aborts before the sum is touched.
   *
   * @return the sum of the survivors' inputs mod 2^32; this server holds it no longer
   */
  public int[] unmask(List<Messages.UnmaskResponse> responses) {
    expect(Stage.UNMASKING);
    Map<Integer, Map<Integer, byte[]>> selfShares = new TreeMap<>();
    Map<Integer, Map<Integer, byte[]>> keyShares = new TreeMap<>();
    Set<Integer> responders = new TreeSet<>();
    for (Messages.UnmaskResponse response : responses) {
      if (!signers.contains(response.from()) || !responders.add(response.from())) {
        throw abort("unexpected or repeated unmask response from node " + response.from());
      }
      response.selfMaskShares().forEach((owner, share) ->
          selfShares.computeIfAbsent(owner, o -> new TreeMap<>()).put(response.from(), share));
      response.keyShares().forEach((owner, share) ->
          keyShares.computeIfAbsent(owner, o -> new TreeMap<>()).put(response.from(), share));
    }
    requireThreshold(responders.size(), "answered the unmasking request");
    List<Mask> masks = new ArrayList<>();
    for (int u : survivors) {
      byte[] seed = reconstruct(u, "self-mask seed", selfShares.getOrDefault(u, Map.of()));
      if (!MessageDigest.isEqual(Session.commitment(sessionId, seed), commitments.get(u))) {
        throw abort("the self-mask seed reconstructed for node " + u + " does not match its commitment");
      }
      masks.add(new Mask(seed, -1));
    }
    for (int v : commitments.keySet()) {
      if (survivors.contains(v)) {
        continue;
      }
      byte[] maskingKey = reconstruct(v, "masking key", keyShares.getOrDefault(v, Map.of()));
      if (!Arrays.equals(X25519.publicKeyOf(maskingKey), keys.get(v).maskingKey())) {
        throw abort("the masking key reconstructed for dropped node " + v + " does not match its public key");
      }
      for (int w : config.graph().neighbours(v)) {
        if (survivors.contains(w)) {
          masks.add(new Mask(Session.pairSeed(maskingKey, keys.get(w).maskingKey(), sessionId), -Session.pairSign(w, v)));
        }
      }
    }
    int[] result = sum;
    sum = null;
    stage = Stage.DONE;
    masks.forEach(mask -> MaskExpander.apply(result, mask.seed(), mask.sign()));
    return result;
  }

  /** A mask to strip from the sum: the expansion of {@code seed}, added {@code sign} times. */
  private record Mask(byte[] seed, int sign) {}

  private byte[] reconstruct(int owner, String what, Map<Integer, byte[]> shares) {
    if (shares.size() < config.threshold()) {
      throw abort("only " + shares.size() + " shares of node " + owner + "'s " + what + " arrived, below the "
          + "threshold of " + config.threshold());
    }
    return Shamir.combine(shares);
  }

  private void requireThreshold(int count, String what) {
    if (count < config.threshold()) {
      throw abort("only " + count + " nodes " + what + ", below the threshold of " + config.threshold()
          + "; the round reveals nothing");
    }
  }

  private void expect(Stage expected) {
    if (stage != expected) {
      throw new IllegalStateException("server is at stage " + stage + ", not " + expected);
    }
  }

  private SecAggException abort(String reason) {
    stage = Stage.ABORTED;
    sum = null;
    return new SecAggException("secure aggregation aborted: " + reason);
  }
}
