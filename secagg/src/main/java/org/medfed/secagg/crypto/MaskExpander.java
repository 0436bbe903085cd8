package org.medfed.secagg.crypto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Expands a 32-byte seed into a mask of 32-bit words with AES-256-CTR (JCE, hardware AES) and adds
 * or subtracts it into a vector mod 2^32. Each seed is used for one mask only (fresh keys every
 * round), so the all-zero IV is safe; a cryptographic PRG, unlike a seeded Mersenne Twister.
 */
public final class MaskExpander {
  /**
   * 16 KiB per JCE call: large enough to keep the AES-CTR intrinsic busy, small enough that
   * {@code CounterMode.encrypt} is called often and reaches C2 (where the intrinsic applies) soon.
   */
  private static final int BLOCK_BYTES = 16 * 1024;

  private static final byte[] ZERO_IV = new byte[16];

  private MaskExpander() {}

  /**
   * Runs the mask loop until the JIT has compiled it with the AES intrinsic: until then it is
   * ten times slower (10 ms instead of 0.8 ms per million values). C2 compiles by call count, so
   * many short vectors warm it faster than a few long ones. Call once at start-up on a thread that
   * may take a second or two.
   */
  public static void warmUp() {
    int[] vector = new int[BLOCK_BYTES / 4 * 4];
    byte[] seed = new byte[32];
    for (int i = 0; i < 6000; i++) {
      apply(vector, seed, (i & 1) == 0 ? 1 : -1);
    }
  }

  /** {@code vector[i] += sign * mask[i]} mod 2^32, where mask = AES-256-CTR(seed, 0) as little-endian words. */
  public static void apply(int[] vector, byte[] seed, int sign) {
    if (sign != 1 && sign != -1) {
      throw new IllegalArgumentException("sign must be +1 or -1, got " + sign);
    }
    Cipher cipher;
    try {
      cipher = Cipher.getInstance("AES/CTR/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(seed, "AES"), new IvParameterSpec(ZERO_IV));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-CTR is required by the JDK", e);
    }
    byte[] zeros = new byte[BLOCK_BYTES];
    byte[] stream = new byte[BLOCK_BYTES];
    // Bulk-copy the keystream into ints, then add in a plain loop that the JIT vectorises.
    IntBuffer view = ByteBuffer.wrap(stream).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
    int[] words = new int[BLOCK_BYTES / 4];
    for (int offset = 0; offset < vector.length; offset += BLOCK_BYTES / 4) {
      int count = Math.min(BLOCK_BYTES / 4, vector.length - offset);
      try {
        cipher.update(zeros, 0, count * 4, stream, 0);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("AES-256-CTR failed on an in-memory buffer", e);
      }
      view.get(0, words, 0, count);
      add(vector, offset, words, count, sign);
    }
  }

  private static void add(int[] vector, int offset, int[] words, int count, int sign) {
    if (sign == 1) {
      for (int i = 0; i < count; i++) {
        vector[offset + i] += words[i];
      }
    } else {
      for (int i = 0; i < count; i++) {
        vector[offset + i] -= words[i];
      }
    }
  }
}
