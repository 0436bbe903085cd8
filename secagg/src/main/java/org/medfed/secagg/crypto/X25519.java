package org.medfed.secagg.crypto;

import java.security.SecureRandom;
import java.util.Arrays;
import org.bouncycastle.crypto.agreement.X25519Agreement;
import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.X25519PublicKeyParameters;
import org.medfed.secagg.SecAggException;

/** X25519 key pairs and Diffie-Hellman agreement (RFC 7748), through Bouncy Castle. */
public final class X25519 {
  public static final int KEY_BYTES = 32;

  private X25519() {}

  /** A key pair; the private key never leaves the client that made it. */
  public record KeyPair(byte[] publicKey, byte[] privateKey) {
    public KeyPair {
      publicKey = publicKey.clone();
      privateKey = privateKey.clone();
    }

    @Override
    public byte[] publicKey() {
      return publicKey.clone();
    }

    @Override
    public byte[] privateKey() {
      return privateKey.clone();
    }

    @Override
    public String toString() {
      return "X25519.KeyPair[public only]";
    }
  }

  public static KeyPair generate(SecureRandom random) {
    X25519PrivateKeyParameters privateKey = new X25519PrivateKeyParameters(random);
    return new KeyPair(privateKey.generatePublicKey().getEncoded(), privateKey.getEncoded());
  }

  public static byte[] publicKeyOf(byte[] privateKey) {
    return new X25519PrivateKeyParameters(privateKey, 0).generatePublicKey().getEncoded();
  }

  /**
   * @throws SecAggException if the peer's key is malformed or a low-order point (all-zero secret)
   */
  public static byte[] agree(byte[] privateKey, byte[] peerPublicKey) {
    if (peerPublicKey.length != KEY_BYTES) {
      throw new SecAggException("X25519 public key must be 32 bytes, got " + peerPublicKey.length);
    }
    X25519Agreement agreement = new X25519Agreement();
    agreement.init(new X25519PrivateKeyParameters(privateKey, 0));
    byte[] secret = new byte[agreement.getAgreementSize()];
    try {
      agreement.calculateAgreement(new X25519PublicKeyParameters(peerPublicKey, 0), secret, 0);
    } catch (IllegalStateException e) {
      throw new SecAggException("X25519 agreement failed: the peer's public key is a low-order point", e);
    }
    return secret;
  }

  static boolean sameKey(byte[] a, byte[] b) {
    return Arrays.equals(a, b);
  }
}
