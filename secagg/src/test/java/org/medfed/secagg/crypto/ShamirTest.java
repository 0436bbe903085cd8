package org.medfed.secagg.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.medfed.secagg.SecAggException;

class ShamirTest {
  private final SecureRandom random = new SecureRandom();

  private byte[] secret(int length) {
    byte[] secret = new byte[length];
    random.nextBytes(secret);
    return secret;
  }

  @Test
  void anyThresholdManyShares_fromXsBeyond255_giveTheSecretBack_withLeadingZeros() {
    byte[] secret = secret(32);
    secret[0] = 0;
    secret[1] = 0;
    List<Integer> xs = List.of(3, 17, 254, 255, 256, 999, 1000, 65_537, 1_000_000);
    Map<Integer, byte[]> shares = Shamir.split(secret, 5, xs, random);
    assertEquals(xs, List.copyOf(shares.keySet()));

    Random pick = new Random(1);
    for (int trial = 0; trial < 20; trial++) {
      List<Integer> chosen = new ArrayList<>(xs);
      Collections.shuffle(chosen, pick);
      Map<Integer, byte[]> subset = new TreeMap<>();
      chosen.subList(0, 5 + pick.nextInt(xs.size() - 4)).forEach(x -> subset.put(x, shares.get(x)));
      assertArrayEquals(secret, Shamir.combine(subset), "shares " + subset.keySet());
    }
  }

  @Test
  void fewerThanThresholdShares_doNotGiveTheSecret() {
    byte[] secret = secret(32);
    Map<Integer, byte[]> shares = Shamir.split(secret, 4, List.of(1, 2, 3, 4, 5), random);
    Map<Integer, byte[]> three = new TreeMap<>(shares);
    three.keySet().retainAll(List.of(1, 3, 5));
    // Three points of a cubic interpolate to an arbitrary field element: callers verify what they get.
    byte[] got;
    try {
      got = Shamir.combine(three);
    } catch (SecAggException e) {
      return;  // the rare arbitrary element of 257 bits
    }
    assertFalse(Arrays.equals(secret, got));
  }

  @Test
  void theFieldIsTheSmallestPrimeAbove2To256_andSharesHaveItsFixedWidth() {
    BigInteger two256 = BigInteger.ONE.shiftLeft(256);
    assertTrue(Shamir.P.isProbablePrime(128));
    assertEquals(Shamir.P, two256.nextProbablePrime());
    byte[] largest = new byte[32];
    Arrays.fill(largest, (byte) 0xff);
    Map<Integer, byte[]> shares = Shamir.split(largest, 3, List.of(1, 2, 3), random);
    shares.values().forEach(share -> assertEquals(Shamir.SHARE_BYTES, share.length));
    assertArrayEquals(largest, Shamir.combine(shares));
  }

  @Test
  void theOneToNFormKeepsItsOrder_andBadInputIsRefused() {
    byte[] secret = secret(32);
    List<byte[]> shares = Shamir.split(secret, 2, 3, random);
    assertArrayEquals(secret, Shamir.combine(Map.of(1, shares.get(0), 3, shares.get(2))));

    assertThrows(IllegalArgumentException.class, () -> Shamir.split(secret(33), 2, 3, random));
    assertThrows(IllegalArgumentException.class, () -> Shamir.split(secret(31), 2, 3, random));
    assertThrows(IllegalArgumentException.class, () -> Shamir.split(secret, 4, 3, random));
    assertThrows(IllegalArgumentException.class, () -> Shamir.split(secret, 2, List.of(0, 1), random));
    byte[] cut = Arrays.copyOf(shares.get(1), 10);
    assertThrows(SecAggException.class, () -> Shamir.combine(Map.of(1, shares.get(0), 2, cut)));
  }
}
