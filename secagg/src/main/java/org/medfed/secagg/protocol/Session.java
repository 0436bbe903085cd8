package org.medfed.secagg.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.medfed.secagg.crypto.Hkdf;
import org.medfed.secagg.crypto.Shamir;
import org.medfed.secagg.crypto.X25519;

/**
 * Derivations both sides must compute identically: the session id that names the instance,
 * the per-pair share-encryption keys and mask seeds, the ciphertexts' associated data, and the
 * self-mask commitment.
 */
final class Session {
  static final int SECRET_BYTES = Shamir.SECRET_BYTES;

  private Session() {}

  /**
   * SHA-256 over the instance context alone. It used to cover every advertised key too, which made
   * every node hash, and so receive, the whole key directory: O(n) per node. Now a node receives only
   * its neighbours' keys (SecAgg+, Bell et al. 2020), and the keys are bound instead by their owners'
   * signatures over the instance context, which covers the whole public setup (participants, graph,
   * threshold): a key a node uses is the one its owner made for this very instance.
   */
  static byte[] id(byte[] context) {
    MessageDigest sha = sha256();
    sha.update("medfed-secagg/v2/session".getBytes(StandardCharsets.UTF_8));
    sha.update(ByteBuffer.allocate(4).putInt(context.length).array());
    sha.update(context);
    return sha.digest();
  }

  static byte[] shareKey(byte[] privateKey, byte[] peerPublicKey, byte[] sessionId) {
    return Hkdf.derive(X25519.agree(privateKey, peerPublicKey), sessionId, "medfed-secagg/share-encryption", 32);
  }

  static byte[] pairSeed(byte[] privateKey, byte[] peerPublicKey, byte[] sessionId) {
    return Hkdf.derive(X25519.agree(privateKey, peerPublicKey), sessionId, "medfed-secagg/pairwise-mask", 32);
  }

  /**
   * The AES-GCM nonce of the shares {@code from} sends {@code to}: the direction, which is unique
   * under the key, because the key is made for one pair in one instance (both directions share it)
   * and each node encrypts once to each peer per instance.
   */
  static byte[] nonce(int from, int to) {
    return ByteBuffer.allocate(12).putInt(from).putInt(to).array();
  }

  /** Binds a share ciphertext to its session, sender and recipient. */
  static byte[] associatedData(byte[] sessionId, int from, int to) {
    return ByteBuffer.allocate(sessionId.length + 8).put(sessionId).putInt(from).putInt(to).array();
  }

  static byte[] commitment(byte[] sessionId, byte[] selfMaskSeed) {
    MessageDigest sha = sha256();
    sha.update(sessionId);
    sha.update(selfMaskSeed);
    return sha.digest();
  }

  /** Client u adds +PRG(s_uv) for peers v below it and -PRG(s_uv) for peers above, so pairs cancel. */
  static int pairSign(int self, int peer) {
    return peer < self ? 1 : -1;
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK must provide SHA-256", e);
    }
  }
}
