package org.medfed.trust.pki;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A certificate the consortium CA issued, parsed and checked against the CA once per JVM and then
 * remembered by its SHA-256 fingerprint, with its key ready for fast signature checks. Secure
 * aggregation sees the same peer certificates every round; parsing and CA-checking them again each
 * round was half of a hospital's protocol CPU. What can change between rounds is still checked at
 * every use: the validity period ({@link #check}, {@link #verify}), and the name and role a round
 * expects. Instances are immutable and thread-safe.
 */
public final class Certified {
  /** Enough for every peer of every consortium an agent or coordinator serves; the eldest goes first. */
  private static final int REMEMBERED = 4096;
  private static final Map<Key, Certified> CACHE = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, Certified> eldest) {
      return size() > REMEMBERED;
    }
  };

  private final X509Certificate certificate;
  private final Identity identity;
  private final byte[] fingerprint;
  private final Optional<EcdsaP256.Verifier> fast;

  private Certified(X509Certificate certificate, byte[] fingerprint) {
    this.certificate = certificate;
    this.identity = Identity.of(certificate);
    this.fingerprint = fingerprint;
    this.fast = EcdsaP256.verifier(certificate.getPublicKey());
  }

  /**
   * The certificate {@code der}, once it is shown to be issued by {@code ca}; from the cache when the
   * same certificate passed the same CA before.
   *
   * @throws IdentitySignatures.Rejected when it is unreadable or another CA issued it
   */
  public static Certified of(byte[] der, X509Certificate ca) throws IdentitySignatures.Rejected {
    if (der.length == 0) {
      throw new IdentitySignatures.Rejected("unsigned: no certificate came with it");
    }
    Key key = new Key(fingerprint(encoded(ca)), fingerprint(der));
    synchronized (CACHE) {
      Certified known = CACHE.get(key);
      if (known != null) {
        return known;
      }
    }
    X509Certificate certificate = IdentitySignatures.certificate(der);
    try {
      certificate.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new IdentitySignatures.Rejected("its certificate was not issued by this consortium's CA");
    }
    Certified checked = new Certified(certificate, key.certificate());
    synchronized (CACHE) {
      CACHE.put(key, checked);
    }
    return checked;
  }

  /** Certificates of this JVM's own identity, or ones a TLS handshake already checked: no CA check here. */
  public static Certified trusted(X509Certificate certificate) {
    return new Certified(certificate, fingerprint(encoded(certificate)));
  }

  /** SHA-256 of a certificate's DER encoding: how protocol 3 names a certificate sent before. */
  public static byte[] fingerprint(byte[] der) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(der);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public Identity identity() {
    return identity;
  }

  public byte[] fingerprint() {
    return fingerprint.clone();
  }

  /** The fingerprint in hex, as error messages show it (first 8 bytes). */
  public static String shortHex(byte[] fingerprint) {
    return HexFormat.of().formatHex(fingerprint, 0, Math.min(8, fingerprint.length));
  }

  /**
   * Checks what may change or differ between uses: that it names {@code name} in {@code role}, and is
   * valid at {@code now}.
   *
   * @throws IdentitySignatures.Rejected saying which
   */
  public void check(String name, Role role, Instant now) throws IdentitySignatures.Rejected {
    checkValidity(now);
    if (!identity.name().equals(name) || identity.role().filter(role::equals).isEmpty()) {
      throw new IdentitySignatures.Rejected("its certificate names " + identity + ", not '" + name + "' ("
          + role.unit() + ")");
    }
  }

  /**
   * Checks that {@code signature} over {@code content} verifies under this certificate's key, and that
   * the certificate is valid at {@code now}.
   *
   * @throws IdentitySignatures.Rejected saying why not
   */
  public void verify(byte[] content, byte[] signature, Instant now) throws IdentitySignatures.Rejected {
    checkValidity(now);
    if (signature.length == 0) {
      throw new IdentitySignatures.Rejected("unsigned: no signature came with it");
    }
    boolean valid = fast.isPresent() ? fast.get().verify(content, signature) : verifiedByJdk(content, signature);
    if (!valid) {
      throw new IdentitySignatures.Rejected("the signature does not match what it signs");
    }
  }

  private void checkValidity(Instant now) throws IdentitySignatures.Rejected {
    if (now.isBefore(identity.notBefore()) || now.isAfter(identity.notAfter())) {
      throw new IdentitySignatures.Rejected("its certificate " + identity + " is valid only from "
          + identity.notBefore() + " to " + identity.notAfter());
    }
  }

  private boolean verifiedByJdk(byte[] content, byte[] signature) throws IdentitySignatures.Rejected {
    try {
      PublicKey key = certificate.getPublicKey();
      Signature verifier = Signature.getInstance(IdentitySignatures.algorithm(key.getAlgorithm()));
      verifier.initVerify(key);
      verifier.update(content);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      throw new IdentitySignatures.Rejected("the signature cannot be checked: " + e.getMessage());
    }
  }

  private static byte[] encoded(X509Certificate certificate) {
    try {
      return certificate.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("a certificate cannot be encoded: " + e.getMessage(), e);
    }
  }

  /** A certificate as checked against one CA: the same certificate under another CA is checked anew. */
  private record Key(byte[] ca, byte[] certificate) {
    @Override
    public boolean equals(Object other) {
      return other instanceof Key key && Arrays.equals(ca, key.ca) && Arrays.equals(certificate, key.certificate);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(ca) + Arrays.hashCode(certificate);
    }

    @Override
    public String toString() {
      return shortHex(ca) + "/" + shortHex(certificate);
    }
  }
}
