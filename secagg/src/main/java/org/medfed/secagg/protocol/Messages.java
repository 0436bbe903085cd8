package org.medfed.secagg.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The messages of the protocol, as immutable values. Arrays are copied in and out (see MaskedInput). */
public final class Messages {
  private Messages() {}

  /** Stage 1, client to server: the two public keys for this round. */
  public record AdvertiseKeys(int from, byte[] encryptionKey, byte[] maskingKey) {
    public AdvertiseKeys {
      encryptionKey = encryptionKey.clone();
      maskingKey = maskingKey.clone();
    }

    @Override
    public byte[] encryptionKey() {
      return encryptionKey.clone();
    }

    @Override
    public byte[] maskingKey() {
      return maskingKey.clone();
    }

    /**
     * What the participant signs with its long-term identity (outside this library) so a relaying
     * server cannot substitute these keys: the instance context, the participant's id and name, and
     * both public keys.
     */
    public byte[] signedContent(byte[] context, String name) {
      byte[] label = "medfed-secagg/v1/advertise-keys".getBytes(StandardCharsets.UTF_8);
      byte[] holder = name.getBytes(StandardCharsets.UTF_8);
      return ByteBuffer.allocate(label.length + 4 + context.length + 4 + 4 + holder.length
              + encryptionKey.length + maskingKey.length)
          .put(label).putInt(context.length).put(context).putInt(from).putInt(holder.length).put(holder)
          .put(encryptionKey).put(maskingKey).array();
    }
  }

  /** Stage 1, server to one client: the keys of its neighbours that advertised, not its own. */
  public record KeyDirectory(List<AdvertiseKeys> keys) {
    public KeyDirectory {
      keys = List.copyOf(keys);
    }
  }

  /** One client's Shamir shares for one peer, encrypted so only that peer can read them. */
  public record EncryptedShare(int from, int to, byte[] ciphertext) {
    public EncryptedShare {
      ciphertext = ciphertext.clone();
    }

    @Override
    public byte[] ciphertext() {
      return ciphertext.clone();
    }
  }

  /**
   * Stage 2, client to server.
   *
   * @param selfMaskCommitment SHA-256(session id, b_u), so the server can verify its reconstruction
   */
  public record ShareKeys(int from, byte[] selfMaskCommitment, List<EncryptedShare> shares) {
    public ShareKeys {
      selfMaskCommitment = selfMaskCommitment.clone();
      shares = List.copyOf(shares);
    }

    @Override
    public byte[] selfMaskCommitment() {
      return selfMaskCommitment.clone();
    }
  }

  /** Stage 3, client to server: the input plus all masks, mod 2^32. */
  /**
   * Stage 3, client to server: the masked vector. Unlike the other messages it is a class, not a
   * record: a vector has millions of values, so it is copied at most once on the way in and never on
   * the way out. Received words are read in place, from the bytes that arrived, so the server holds
   * no decoded copy of a hospital's vector besides its running sum.
   */
  public static final class MaskedInput {
    private final int from;
    private final IntBuffer words;

    public MaskedInput(int from, int[] masked) {
      this(from, IntBuffer.wrap(masked.clone()));
    }

    private MaskedInput(int from, IntBuffer words) {
      this.from = from;
      this.words = words;
    }

    /** Takes ownership of a vector the caller built and will not touch again. */
    static MaskedInput owning(int from, int[] owned) {
      return new MaskedInput(from, IntBuffer.wrap(owned));
    }

    /** Reads the words received on the wire (4 bytes each, little-endian) in place; the caller gives the bytes up. */
    public static MaskedInput fromLittleEndian(int from, ByteBuffer words) {
      if (words.remaining() % Integer.BYTES != 0) {
        throw new IllegalArgumentException("a masked vector of " + words.remaining()
            + " bytes is not a whole number of 32-bit words");
      }
      return new MaskedInput(from, words.slice().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer());
    }

    /** The words to send: 4 bytes per value, little-endian. */
    public byte[] toLittleEndian() {
      ByteBuffer bytes = ByteBuffer.allocate(length() * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      bytes.asIntBuffer().put(words.duplicate().clear());
      return bytes.array();
    }

    public int from() {
      return from;
    }

    public int[] masked() {
      int[] copy = new int[length()];
      words.get(0, copy);
      return copy;
    }

    /** Adds this vector into the server's running sum (mod 2^32), without copying it. */
    void addInto(int[] sum) {
      IntBuffer in = words;
      for (int i = 0; i < sum.length; i++) {
        sum[i] += in.get(i);
      }
    }

    int length() {
      return words.limit();
    }

    @Override
    public String toString() {
      return "MaskedInput[from=" + from + ", " + length() + " values]";
    }
  }

  /**
   * Stage 4, the consistency check (Bonawitz et al. 2017, figure 4, round 4), server to each
   * survivor: U3, every node whose masked input is in the sum. Under SecAgg+ it is still the whole
   * set, not the recipient's neighbourhood, so every signature is over the same bytes.
   */
  public record SurvivorSet(int to, List<Integer> survivors) {
    public SurvivorSet {
      survivors = List.copyOf(survivors);
    }

    /**
     * What each survivor signs: the instance context and the set, in id order. Without the context a
     * signature from another round or attempt would count here.
     */
    public static byte[] signedContent(byte[] context, Collection<Integer> survivors) {
      byte[] label = "medfed-secagg/v1/survivor-set".getBytes(StandardCharsets.UTF_8);
      List<Integer> sorted = survivors.stream().sorted().toList();
      ByteBuffer out = ByteBuffer.allocate(label.length + 4 + context.length + 4 + 4 * sorted.size())
          .put(label).putInt(context.length).put(context).putInt(sorted.size());
      sorted.forEach(out::putInt);
      return out.array();
    }
  }

  /** Stage 4, client to server: its signature over the survivor set it was shown. */
  public record SurvivorSignature(int from, byte[] signature) {
    public SurvivorSignature {
      signature = signature.clone();
    }

    @Override
    public byte[] signature() {
      return signature.clone();
    }
  }

  /**
   * Stage 5, server to one client: which of its peers survived and which dropped out, with t - 1 of
   * its surviving neighbours' signatures over the survivor set (its own it counts itself), which the
   * client checks before it reveals anything.
   */
  public record UnmaskRequest(int to, List<Integer> survivors, List<Integer> dropouts,
      List<SurvivorSignature> signatures) {
    public UnmaskRequest {
      survivors = List.copyOf(survivors);
      dropouts = List.copyOf(dropouts);
      signatures = List.copyOf(signatures);
    }

    /** The same request with other signatures: what a relaying server may alter. */
    public UnmaskRequest withSignatures(List<SurvivorSignature> others) {
      return new UnmaskRequest(to, survivors, dropouts, others);
    }
  }

  /** Stage 5, client to server: self-mask shares of survivors and key shares of dropouts, by owner. */
  public record UnmaskResponse(int from, Map<Integer, byte[]> selfMaskShares, Map<Integer, byte[]> keyShares) {
    public UnmaskResponse {
      selfMaskShares = copy(selfMaskShares);
      keyShares = copy(keyShares);
    }

    @Override
    public Map<Integer, byte[]> selfMaskShares() {
      return copy(selfMaskShares);
    }

    @Override
    public Map<Integer, byte[]> keyShares() {
      return copy(keyShares);
    }

    private static Map<Integer, byte[]> copy(Map<Integer, byte[]> map) {
      Map<Integer, byte[]> out = new TreeMap<>();
      map.forEach((k, v) -> out.put(k, v.clone()));
      return Collections.unmodifiableMap(out);
    }
  }
}
