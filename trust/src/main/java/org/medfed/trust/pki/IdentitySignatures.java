package org.medfed.trust.pki;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Optional;

/**
 * Statements signed with a participant's certificate key, checked by anyone holding the consortium
 * CA: the holder is named by a certificate the CA issued, for the expected name and role, valid now.
 * Secure aggregation uses it so that a relaying coordinator cannot swap a hospital's round keys for
 * its own.
 */
public final class IdentitySignatures {
  private IdentitySignatures() {}

  /** SHA256withECDSA for the consortium's P-256 keys (fast, deterministic nonces); the JDK's provider otherwise. */
  public static byte[] sign(PrivateKey key, byte[] content) {
    Optional<byte[]> fast = EcdsaP256.sign(key, content);
    if (fast.isPresent()) {
      return fast.get();
    }
    try {
      Signature signer = Signature.getInstance(algorithm(key.getAlgorithm()));
      signer.initSign(key);
      signer.update(content);
      return signer.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with this " + key.getAlgorithm() + " key: " + e.getMessage(), e);
    }
  }

  /**
   * Checks that {@code signature} is a signature over {@code content} by the {@code role}
   * {@code name}, and returns the signer's certificate as checked. The certificate is parsed and
   * checked against the CA once per JVM ({@link Certified}); name, role and validity every time.
   *
   * @param certificateDer the signer's certificate as it travelled (DER)
   * @throws Rejected saying why not
   */
  public static Certified verify(byte[] certificateDer, byte[] content, byte[] signature, X509Certificate ca,
      String name, Role role, Instant now) throws Rejected {
    if (certificateDer.length == 0 || signature.length == 0) {
      throw new Rejected("unsigned: no certificate or signature came with it");
    }
    Certified certified = Certified.of(certificateDer, ca);
    certified.check(name, role, now);
    certified.verify(content, signature, now);
    return certified;
  }

  /** Brings signing and verification to compiled speed; for a process's start, off the rounds' path. */
  public static void warmUp() {
    EcdsaP256.warmUp();
  }

  /** Reads a certificate as it travelled (DER). */
  public static X509Certificate certificate(byte[] der) throws Rejected {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
    } catch (CertificateException | ClassCastException e) {
      throw new Rejected("its certificate is unreadable: " + e.getMessage());
    }
  }

  /** A signature that does not prove what it claims; the message says why. */
  public static final class Rejected extends Exception {
    public Rejected(String message) {
      super(message);
    }
  }

  static String algorithm(String keyAlgorithm) throws GeneralSecurityException {
    return switch (keyAlgorithm) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new GeneralSecurityException("unsupported key algorithm " + keyAlgorithm);
    };
  }
}
