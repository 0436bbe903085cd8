package org.medfed.trust.pki;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * Statements signed with a participant's certificate key, checked by anyone holding the consortium
 * CA: the holder is named by a certificate the CA issued, for the expected name and role, valid now.
 * Secure aggregation uses it so that a relaying coordinator cannot swap a hospital's round keys for
 * its own.
 */
public final class IdentitySignatures {
  private IdentitySignatures() {}

  public static byte[] sign(PrivateKey key, byte[] content) {
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
   * {@code name}, and returns the signer's identity as its certificate states it.
   *
   * @param certificateDer the signer's certificate as it travelled (DER)
   * @throws Rejected saying why not
   */
  public static Identity verify(byte[] certificateDer, byte[] content, byte[] signature, X509Certificate ca,
      String name, Role role, Instant now) throws Rejected {
    if (certificateDer.length == 0 || signature.length == 0) {
      throw new Rejected("unsigned: no certificate or signature came with it");
    }
    X509Certificate certificate = certificate(certificateDer);
    try {
      certificate.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new Rejected("its certificate was not issued by this consortium's CA");
    }
    Identity identity = Identity.of(certificate);
    if (now.isBefore(identity.notBefore()) || now.isAfter(identity.notAfter())) {
      throw new Rejected("its certificate " + identity + " is valid only from " + identity.notBefore() + " to "
          + identity.notAfter());
    }
    if (!identity.name().equals(name) || identity.role().filter(role::equals).isEmpty()) {
      throw new Rejected("its certificate names " + identity + ", not '" + name + "' (" + role.unit() + ")");
    }
    verifySignature(certificate, content, signature);
    return identity;
  }

  /**
   * Checks only that {@code signature} over {@code content} verifies under {@code certificate}'s
   * key, and that the certificate is valid at {@code now}: for a certificate that already passed
   * {@link #verify} (CA, name, role), so that many statements by one holder cost one ECDSA check each.
   *
   * @throws Rejected saying why not
   */
  public static void verifyAgain(X509Certificate certificate, byte[] content, byte[] signature, Instant now)
      throws Rejected {
    Identity identity = Identity.of(certificate);
    if (now.isBefore(identity.notBefore()) || now.isAfter(identity.notAfter())) {
      throw new Rejected("its certificate " + identity + " is valid only from " + identity.notBefore() + " to "
          + identity.notAfter());
    }
    if (signature.length == 0) {
      throw new Rejected("unsigned: no signature came with it");
    }
    verifySignature(certificate, content, signature);
  }

  /** Reads a certificate as it travelled (DER). */
  public static X509Certificate certificate(byte[] der) throws Rejected {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
    } catch (CertificateException | ClassCastException e) {
      throw new Rejected("its certificate is unreadable: " + e.getMessage());
    }
  }

  private static void verifySignature(X509Certificate certificate, byte[] content, byte[] signature)
      throws Rejected {
    boolean valid;
    try {
      PublicKey key = certificate.getPublicKey();
      Signature verifier = Signature.getInstance(algorithm(key.getAlgorithm()));
      verifier.initVerify(key);
      verifier.update(content);
      valid = verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      throw new Rejected("the signature cannot be checked: " + e.getMessage());
    }
    if (!valid) {
      throw new Rejected("the signature does not match what it signs");
    }
  }

  /** A signature that does not prove what it claims; the message says why. */
  public static final class Rejected extends Exception {
    public Rejected(String message) {
      super(message);
    }
  }

  private static String algorithm(String keyAlgorithm) throws GeneralSecurityException {
    return switch (keyAlgorithm) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new GeneralSecurityException("unsupported key algorithm " + keyAlgorithm);
    };
  }
}
