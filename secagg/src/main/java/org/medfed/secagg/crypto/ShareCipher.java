package org.medfed.secagg.crypto;

import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.medfed.secagg.SecAggException;

/**
 * AES-256-GCM for the Shamir shares clients send each other through the server. The associated
 * data binds each ciphertext to its session, round, sender and recipient, so the server can
 * neither read, alter, redirect nor replay one.
 *
 * <p>The nonce is the caller's and does not travel (protocol 4; until then 12 random bytes were sent
 * with every ciphertext). GCM needs a (key, nonce) pair never to encrypt twice: the protocol derives
 * a fresh key for each pair of nodes in each instance, from key pairs made for that instance alone,
 * and each node encrypts once to each peer, so the direction (sender, recipient) is a unique nonce
 * under that key ({@code Session.nonce}).
 */
public final class ShareCipher {
  public static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  /** What a ciphertext adds to its plaintext: the tag. */
  public static final int OVERHEAD_BYTES = TAG_BITS / 8;

  private ShareCipher() {}

  /** @return ciphertext followed by the tag */
  public static byte[] encrypt(byte[] key, byte[] nonce, byte[] associatedData, byte[] plaintext) {
    try {
      return cipher(Cipher.ENCRYPT_MODE, key, nonce, associatedData).doFinal(plaintext);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM is required by the JDK", e);
    }
  }

  /** @throws SecAggException if the ciphertext or its associated data was altered or misdirected */
  public static byte[] decrypt(byte[] key, byte[] nonce, byte[] associatedData, byte[] sealed) {
    if (sealed.length < OVERHEAD_BYTES) {
      throw new SecAggException("share ciphertext of " + sealed.length + " bytes is too short to be genuine");
    }
    try {
      return cipher(Cipher.DECRYPT_MODE, key, nonce, associatedData).doFinal(sealed);
    } catch (AEADBadTagException e) {
      throw new SecAggException("share ciphertext failed authentication: it was tampered with, replayed from "
          + "another session or round, or sent to the wrong recipient", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM is required by the JDK", e);
    }
  }

  private static Cipher cipher(int mode, byte[] key, byte[] nonce, byte[] associatedData)
      throws GeneralSecurityException {
    if (nonce.length != NONCE_BYTES) {
      throw new IllegalArgumentException("an AES-GCM nonce has " + NONCE_BYTES + " bytes, got " + nonce.length);
    }
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, nonce));
    cipher.updateAAD(associatedData);
    return cipher;
  }
}
