package org.medfed.secagg.crypto;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bouncycastle.crypto.threshold.ShamirSecretSplitter;
import org.bouncycastle.crypto.threshold.ShamirSplitSecret;
import org.bouncycastle.crypto.threshold.ShamirSplitSecretShare;
import org.medfed.secagg.SecAggException;

/**
 * Shamir t-of-n sharing of 32-byte secrets over GF(256) (Bouncy Castle). Share x-coordinates are
 * 1..n and travel with the share. With fewer than t shares reconstruction silently returns
 * garbage, so callers must verify what they reconstruct (a public key, or a hash commitment).
 */
public final class Shamir {
  public static final int MAX_SHARES = 255;

  private Shamir() {}

  /** @return shares for x = 1..n, in order */
  public static List<byte[]> split(byte[] secret, int threshold, int n, SecureRandom random) {
    if (threshold < 1 || threshold > n || n > MAX_SHARES) {
      throw new IllegalArgumentException("Shamir needs 1 <= threshold (" + threshold + ") <= n (" + n + ") <= "
          + MAX_SHARES);
    }
    ShamirSplitSecret split = new ShamirSecretSplitter(ShamirSecretSplitter.Algorithm.AES,
        ShamirSecretSplitter.Mode.Table, secret.length, random).resplit(secret, threshold, n);
    List<byte[]> shares = new ArrayList<>(n);
    try {
      for (ShamirSplitSecretShare share : split.getSecretShares()) {
        shares.add(share.getEncoded());
      }
    } catch (IOException e) {
      throw new IllegalStateException("encoding an in-memory share cannot fail", e);
    }
    return shares;
  }

  /** @param shares share bytes by x-coordinate (1-based) */
  public static byte[] combine(Map<Integer, byte[]> shares) {
    ShamirSplitSecretShare[] points = shares.entrySet().stream()
        .map(e -> new ShamirSplitSecretShare(e.getValue(), e.getKey()))
        .toArray(ShamirSplitSecretShare[]::new);
    try {
      return new ShamirSplitSecret(ShamirSecretSplitter.Algorithm.AES, ShamirSecretSplitter.Mode.Table, points)
          .getSecret();
    } catch (IOException e) {
      throw new SecAggException("Shamir reconstruction failed: " + e.getMessage(), e);
    }
  }
}
