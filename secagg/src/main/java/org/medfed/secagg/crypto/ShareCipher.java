package org.medfed.secagg.crypto;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.medfed.secagg.SecAggException;

/**
 * AES-256-GCM for the Shamir shares clients send each other through the server. The associated
 * data binds each ciphertext to its session, round, sender and recipient, so the server can
 * neither read, alter, redirect nor replay one.
 */
public final class ShareCipher {
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  private ShareCipher() {}

  /** @return nonce followed by ciphertext and tag */
  public static byte[] encrypt(byte[] key, byte[] associatedData, byte[] plaintext, SecureRandom random) {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(associatedData);
      byte[] sealed = cipher.doFinal(plaintext);
      byte[] out = Arrays.copyOf(nonce, NONCE_BYTES + sealed.length);
      System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM is required by the JDK", e);
    }
  }

  /** @throws SecAggException if the ciphertext or its associated data was altered or misdirected */
  public static byte[] decrypt(byte[] key, byte[] associatedData, byte[] sealed) {
    if (sealed.length < NONCE_BYTES + TAG_BITS / 8) {
      throw new SecAggException("share ciphertext of " + sealed.length + " bytes is too short to be genuine");
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"),
          new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_BYTES));
      cipher.updateAAD(associatedData);
      return cipher.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
    } catch (AEADBadTagException e) {
      throw new SecAggException("share ciphertext failed authentication: it was tampered with, replayed from "
          + "another session or round, or sent to the wrong recipient", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM is required by the JDK", e);
    }
  }
}
