package org.medfed.trust.pki;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertifiedTest {
  private static final Instant NOW = Instant.parse("2026-11-25T00:00:00Z");
  private static final byte[] CONTENT = "survivor set of round 2".getBytes(StandardCharsets.UTF_8);

  @TempDir Path dir;
  private CertificateAuthority ca;
  private CertificateAuthority.Issued hospitalA;

  @BeforeEach
  void consortium() throws Exception {
    ca = CertificateAuthority.create(dir.resolve("ca"), "acme", NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(365)));
    hospitalA = ca.issue("hospital-a", Role.HOSPITAL, List.of(), NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(30)));
  }

  @Test
  void aCertificateCheckedOnce_isRememberedByItsFingerprint() throws Exception {
    byte[] der = hospitalA.certificate().getEncoded();

    Certified first = Certified.of(der, ca.certificate());

    assertSame(first, Certified.of(der.clone(), ca.certificate()));
    assertArrayEquals(Certified.fingerprint(der), first.fingerprint());
  }

  @Test
  void aRememberedCertificate_isStillCheckedForValidityNameAndRole() throws Exception {
    Certified certified = Certified.of(hospitalA.certificate().getEncoded(), ca.certificate());
    byte[] signature = IdentitySignatures.sign(hospitalA.privateKey(), CONTENT);

    assertTrue(assertThrows(IdentitySignatures.Rejected.class, () -> certified.verify(CONTENT, signature,
        NOW.plus(Duration.ofDays(31)))).getMessage().contains("is valid only from"));
    assertTrue(assertThrows(IdentitySignatures.Rejected.class, () -> certified.check("hospital-b", Role.HOSPITAL,
        NOW)).getMessage().contains("not 'hospital-b'"));
    assertTrue(assertThrows(IdentitySignatures.Rejected.class, () -> certified.check("hospital-a", Role.COORDINATOR,
        NOW)).getMessage().contains("not 'hospital-a' (coordinator)"));
  }

  @Test
  void theSameCertificateUnderAnotherCa_isCheckedAnewAndRefused() throws Exception {
    CertificateAuthority other = CertificateAuthority.create(dir.resolve("other"), "acme", NOW.minus(Duration.ofDays(1)),
        NOW.plus(Duration.ofDays(365)));
    byte[] der = hospitalA.certificate().getEncoded();
    Certified.of(der, ca.certificate());

    assertTrue(assertThrows(IdentitySignatures.Rejected.class, () -> Certified.of(der, other.certificate()))
        .getMessage().contains("not issued by this consortium's CA"));
  }

  @Test
  void fastAndJdkEcdsa_acceptEachOthersSignatures() throws Exception {
    Certified certified = Certified.of(hospitalA.certificate().getEncoded(), ca.certificate());
    Signature jdk = Signature.getInstance("SHA256withECDSA");
    jdk.initSign(hospitalA.privateKey());
    jdk.update(CONTENT);
    certified.verify(CONTENT, jdk.sign(), NOW);

    byte[] fast = IdentitySignatures.sign(hospitalA.privateKey(), CONTENT);
    jdk.initVerify(hospitalA.certificate().getPublicKey());
    jdk.update(CONTENT);
    assertTrue(jdk.verify(fast));
    certified.verify(CONTENT, fast, NOW);
  }

  @Test
  void alteredOrGarbledSignatures_areRefused() throws Exception {
    Certified certified = Certified.of(hospitalA.certificate().getEncoded(), ca.certificate());
    byte[] signature = IdentitySignatures.sign(hospitalA.privateKey(), CONTENT);
    byte[] altered = signature.clone();
    altered[altered.length - 1] ^= 1;
    byte[] trailing = java.util.Arrays.copyOf(signature, signature.length + 1);

    for (byte[] bad : List.of(altered, trailing, new byte[] {1, 2, 3}, new byte[] {0x30, 0})) {
      assertTrue(assertThrows(IdentitySignatures.Rejected.class, () -> certified.verify(CONTENT, bad, NOW))
          .getMessage().contains("does not match"));
    }
    assertTrue(assertThrows(IdentitySignatures.Rejected.class, () -> certified.verify(CONTENT, new byte[0], NOW))
        .getMessage().startsWith("unsigned"));
  }
}
