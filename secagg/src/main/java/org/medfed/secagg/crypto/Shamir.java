package org.medfed.secagg.crypto;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.medfed.secagg.SecAggException;

/**
 * Shamir t-of-n sharing of secrets of up to 64 bytes over the prime field of the Mersenne prime
 * 2^521 − 1, evaluated only at the x-coordinates asked for. A field of bytes (GF(256)) would cap a
 * round at 255 participants and make every client compute a share for each of them; here x is any
 * participant id, and under SecAgg+ a client computes shares for its neighbours only. A share is the
 * secret's length (one byte) and y (66 bytes, big-endian). With fewer than t shares reconstruction
 * returns garbage, so callers must verify what they reconstruct (a public key, or a hash commitment).
 */
public final class Shamir {
  /** The largest x-coordinate, and so the largest participant id, a round may use. */
  public static final int MAX_SHARES = 1_000_000;
  private static final BigInteger P = BigInteger.ONE.shiftLeft(521).subtract(BigInteger.ONE);
  private static final int Y_BYTES = 66;
  private static final int MAX_SECRET_BYTES = 64;

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
    if (secret.length > MAX_SECRET_BYTES) {
      throw new IllegalArgumentException("Shamir shares secrets of up to " + MAX_SECRET_BYTES + " bytes, got "
          + secret.length);
    }
    // f(x) = secret + a1 x + ... + a(t-1) x^(t-1), each a uniform in the field.
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
      BigInteger y = BigInteger.ZERO;
      for (int i = threshold - 1; i >= 0; i--) {
        y = y.multiply(bigX).add(coefficients[i]).mod(P);
      }
      byte[] share = new byte[1 + Y_BYTES];
      share[0] = (byte) secret.length;
      byte[] bytes = y.toByteArray();
      int skip = bytes.length > Y_BYTES ? bytes.length - Y_BYTES : 0;  // toByteArray's leading sign byte
      System.arraycopy(bytes, skip, share, 1 + Y_BYTES - (bytes.length - skip), bytes.length - skip);
      if (shares.put(x, share) != null) {
        throw new IllegalArgumentException("x-coordinate " + x + " asked for twice");
      }
    }
    return shares;
  }

  /**
   * @param shares share bytes by x-coordinate (1-based)
   * @throws SecAggException when the shares are malformed or disagree on the secret's length
   */
  public static byte[] combine(Map<Integer, byte[]> shares) {
    if (shares.isEmpty()) {
      throw new SecAggException("Shamir reconstruction failed: no shares");
    }
    int length = -1;
    BigInteger secret = BigInteger.ZERO;
    for (Map.Entry<Integer, byte[]> share : shares.entrySet()) {
      byte[] bytes = share.getValue();
      if (bytes.length != 1 + Y_BYTES || (length >= 0 && bytes[0] != length)) {
        throw new SecAggException("Shamir reconstruction failed: the share for x = " + share.getKey()
            + " is malformed or disagrees with the others on the secret's length");
      }
      length = bytes[0];
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
      BigInteger y = new BigInteger(1, Arrays.copyOfRange(bytes, 1, bytes.length));
      secret = secret.add(y.multiply(numerator).multiply(denominator.modInverse(P))).mod(P);
    }
    if (length < 0 || length > MAX_SECRET_BYTES || secret.bitLength() > 8 * length) {
      // Too few or wrong shares interpolate to an arbitrary field element, almost never this short.
      throw new SecAggException("Shamir reconstruction failed: the shares do not interpolate to a "
          + Math.max(length, 0) + "-byte secret");
    }
    byte[] out = new byte[length];
    byte[] bytes = secret.toByteArray();
    int skip = bytes.length > length ? bytes.length - length : 0;
    System.arraycopy(bytes, skip, out, length - (bytes.length - skip), bytes.length - skip);
    return out;
  }
}
