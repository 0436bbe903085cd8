package org.medfed.secagg.crypto;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.medfed.secagg.SecAggException;

/**
 * Shamir t-of-n sharing of 32-byte secrets (the protocol's seeds and X25519 private keys) over the
 * prime field of p = 2^256 + 297, the smallest prime above 2^256, so every 32-byte string is a field
 * element, evaluated only at the x-coordinates asked for. A field of bytes (GF(256)) would cap a
 * round at 255 participants and make every client compute a share for each of them; here x is any
 * participant id, and under SecAgg+ a client computes shares for its neighbours only. A share is y at
 * fixed width: 33 big-endian bytes (p needs 257 bits). Until protocol 4 the field was 2^521 − 1 and a
 * share 67 bytes, twice what a 32-byte secret needs. With fewer than t shares, or a wrong one,
 * reconstruction returns an arbitrary value, so callers must verify what they reconstruct (a public
 * key, or a hash commitment).
 */
public final class Shamir {
  /** The largest x-coordinate, and so the largest participant id, a round may use. */
  public static final int MAX_SHARES = 1_000_000;
  /** The length of every secret shared. */
  public static final int SECRET_BYTES = 32;
  /** The length of every share: y, big-endian, at the width of p. */
  public static final int SHARE_BYTES = 33;
  static final BigInteger P = BigInteger.ONE.shiftLeft(8 * SECRET_BYTES).add(BigInteger.valueOf(297));

  private Shamir() {}

  /** @return shares for x = 1..n, in order */
  public static List<byte[]> split(byte[] secret, int threshold, int n, SecureRandom random) {
    List<Integer> xs = new ArrayList<>(n);
    for (int x = 1; x <= n; x++) {
      xs.add(x);
    }
    return List.copyOf(split(secret, threshold, xs, random).values());
  }

  /** @return a share for each of {@code xs}, by x, in the order given */
  public static Map<Integer, byte[]> split(byte[] secret, int threshold, Collection<Integer> xs, SecureRandom random) {
    if (threshold < 1 || threshold > xs.size()) {
      throw new IllegalArgumentException("Shamir needs 1 <= threshold (" + threshold + ") <= shares (" + xs.size() + ")");
    }
    if (secret.length != SECRET_BYTES) {
      throw new IllegalArgumentException("Shamir shares secrets of exactly " + SECRET_BYTES + " bytes, got "
          + secret.length);
    }
    // f(x) = secret + a1 x + ... + a(t-1) x^(t-1), each a uniform in the field (rejection sampling).
    BigInteger[] coefficients = new BigInteger[threshold];
    coefficients[0] = new BigInteger(1, secret);
    for (int i = 1; i < threshold; i++) {
      BigInteger a;
      do {
        a = new BigInteger(P.bitLength(), random);
      } while (a.compareTo(P) >= 0);
      coefficients[i] = a;
    }
    Map<Integer, byte[]> shares = new LinkedHashMap<>();
    for (int x : xs) {
      if (x < 1 || x > MAX_SHARES) {
        throw new IllegalArgumentException("share x-coordinates must be in 1.." + MAX_SHARES + ", got " + x);
      }
      BigInteger bigX = BigInteger.valueOf(x);
      BigInteger y = coefficients[threshold - 1];
      for (int i = threshold - 2; i >= 0; i--) {
        y = y.multiply(bigX).add(coefficients[i]).mod(P);
      }
      if (shares.put(x, fixedWidth(y, SHARE_BYTES)) != null) {
        throw new IllegalArgumentException("x-coordinate " + x + " asked for twice");
      }
    }
    return shares;
  }

  /**
   * @param shares share bytes by x-coordinate (1-based)
   * @throws SecAggException when a share is malformed, or the shares interpolate to no 32-byte secret
   */
  public static byte[] combine(Map<Integer, byte[]> shares) {
    if (shares.isEmpty()) {
      throw new SecAggException("Shamir reconstruction failed: no shares");
    }
    BigInteger secret = BigInteger.ZERO;
    for (Map.Entry<Integer, byte[]> share : shares.entrySet()) {
      byte[] bytes = share.getValue();
      BigInteger y = bytes.length == SHARE_BYTES ? new BigInteger(1, bytes) : P;
      if (y.compareTo(P) >= 0) {
        throw new SecAggException("Shamir reconstruction failed: the share for x = " + share.getKey() + " is not a "
            + SHARE_BYTES + "-byte element of the field (" + bytes.length + " bytes)");
      }
      // Lagrange basis at 0: prod over the other x_j of x_j / (x_j - x_i).
      BigInteger xi = BigInteger.valueOf(share.getKey());
      BigInteger numerator = BigInteger.ONE;
      BigInteger denominator = BigInteger.ONE;
      for (int other : shares.keySet()) {
        if (other != share.getKey()) {
          BigInteger xj = BigInteger.valueOf(other);
          numerator = numerator.multiply(xj).mod(P);
          denominator = denominator.multiply(xj.subtract(xi)).mod(P);
        }
      }
      secret = secret.add(y.multiply(numerator).multiply(denominator.modInverse(P))).mod(P);
    }
    if (secret.bitLength() > 8 * SECRET_BYTES) {
      // Too few or wrong shares interpolate to an arbitrary field element, rarely (297 in 2^256) this one.
      throw new SecAggException("Shamir reconstruction failed: the shares do not interpolate to a "
          + SECRET_BYTES + "-byte secret");
    }
    return fixedWidth(secret, SECRET_BYTES);
  }

  /** {@code value} (0 <= value < 2^(8 width)) as exactly {@code width} big-endian bytes. */
  private static byte[] fixedWidth(BigInteger value, int width) {
    byte[] out = new byte[width];
    byte[] bytes = value.toByteArray();
    int skip = bytes.length > width ? bytes.length - width : 0;  // toByteArray's leading sign byte
    System.arraycopy(bytes, skip, out, width - (bytes.length - skip), bytes.length - skip);
    return out;
  }
}
