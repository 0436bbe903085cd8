package org.medfed.trust.pki;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECField;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.util.Optional;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;

/**
 * SHA256withECDSA on P-256 through Bouncy Castle's specialised curve, for the keys of consortium
 * certificates. The JDK 17 provider (SunEC) takes about 1.25 ms of CPU per verification on this
 * machine; Bouncy Castle's P-256 field arithmetic with a key whose precomputed multiples are kept
 * (one {@link Verifier} per certificate, reused every round) takes about 0.1 ms. The signatures are
 * the same standard DER-encoded ECDSA: either side may use either implementation. Signing uses
 * deterministic nonces (RFC 6979), so no weak random source can leak the key.
 */
final class EcdsaP256 {
  private static final X9ECParameters CURVE = CustomNamedCurves.getByName("secp256r1");
  private static final ECDomainParameters DOMAIN = new ECDomainParameters(CURVE.getCurve(), CURVE.getG(),
      CURVE.getN(), CURVE.getH());

  private EcdsaP256() {}

  /** Checks signatures by one P-256 key; thread-safe, and faster with each use of the same instance. */
  static final class Verifier {
    private final ECPublicKeyParameters key;

    private Verifier(ECPublicKeyParameters key) {
      this.key = key;
    }

    /** Whether {@code signature} (DER) is one over {@code content}; false for a malformed encoding too. */
    boolean verify(byte[] content, byte[] signature) {
      BigInteger[] rs;
      try {
        // Rejects any encoding but the one canonical DER form, as the JDK does.
        rs = StandardDSAEncoding.INSTANCE.decode(DOMAIN.getN(), signature);
      } catch (IOException | RuntimeException e) {  // garbled ASN.1 surfaces as either
        return false;
      }
      ECDSASigner verifier = new ECDSASigner();
      verifier.init(false, key);
      return verifier.verifySignature(sha256(content), rs[0], rs[1]);
    }
  }

  /** A fast verifier for {@code key} when it is a P-256 key; empty for any other key. */
  static Optional<Verifier> verifier(PublicKey key) {
    if (!(key instanceof ECPublicKey ec) || !isP256(ec.getParams())) {
      return Optional.empty();
    }
    // validatePoint refuses a point off the curve, so a crafted certificate cannot feed one in.
    return Optional.of(new Verifier(new ECPublicKeyParameters(
        DOMAIN.getCurve().validatePoint(ec.getW().getAffineX(), ec.getW().getAffineY()), DOMAIN)));
  }

  /** The DER signature over {@code content}, or empty when {@code key} is not a P-256 key. */
  static Optional<byte[]> sign(PrivateKey key, byte[] content) {
    if (!(key instanceof ECPrivateKey ec) || !isP256(ec.getParams())) {
      return Optional.empty();
    }
    ECDSASigner signer = new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest()));
    signer.init(true, new ECPrivateKeyParameters(ec.getS(), DOMAIN));
    BigInteger[] rs = signer.generateSignature(sha256(content));
    try {
      return Optional.of(StandardDSAEncoding.INSTANCE.encode(DOMAIN.getN(), rs[0], rs[1]));
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode an ECDSA signature: " + e.getMessage(), e);
    }
  }

  /**
   * Signs and verifies a few hundred times with a throw-away key, so that a process's first rounds
   * are not charged for the JIT compiling this code: a round runs it only 2k + 2 times.
   */
  static void warmUp() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = generator.generateKeyPair();
      Verifier verifier = verifier(pair.getPublic()).orElseThrow();
      byte[] content = new byte[128];
      for (int i = 0; i < 300; i++) {
        content[0] = (byte) i;
        byte[] signature = sign(pair.getPrivate(), content).orElseThrow();
        if (!verifier.verify(content, signature)) {
          throw new IllegalStateException("the P-256 warm-up's own signature did not verify");
        }
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot make a P-256 key: " + e.getMessage(), e);
    }
  }

  private static boolean isP256(ECParameterSpec spec) {
    ECField field = spec.getCurve().getField();
    return field instanceof ECFieldFp fp && fp.getP().equals(CURVE.getCurve().getField().getCharacteristic())
        && spec.getOrder().equals(CURVE.getN()) && spec.getCofactor() == CURVE.getH().intValueExact()
        && spec.getCurve().getA().equals(CURVE.getCurve().getA().toBigInteger())
        && spec.getCurve().getB().equals(CURVE.getCurve().getB().toBigInteger())
        && spec.getGenerator().getAffineX().equals(CURVE.getG().getAffineXCoord().toBigInteger())
        && spec.getGenerator().getAffineY().equals(CURVE.getG().getAffineYCoord().toBigInteger());
  }

  private static byte[] sha256(byte[] content) {
    SHA256Digest digest = new SHA256Digest();
    digest.update(content, 0, content.length);
    byte[] hash = new byte[digest.getDigestSize()];
    digest.doFinal(hash, 0);
    return hash;
  }
}
