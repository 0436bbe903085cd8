package org.medfed.trust.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdentitySignaturesTest {
  private static final Instant NOW = Instant.parse("2026-11-25T00:00:00Z");
  private static final byte[] CONTENT = "round keys of hospital-a".getBytes(StandardCharsets.UTF_8);

  @TempDir Path dir;
  private CertificateAuthority ca;
  private CertificateAuthority.Issued hospitalA;

  @BeforeEach
  void consortium() throws Exception {
    ca = CertificateAuthority.create(dir.resolve("ca"), "acme", NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(365)));
    hospitalA = issue(ca, "hospital-a", Role.HOSPITAL, NOW.plus(Duration.ofDays(30)));
  }

  @Test
  void aSignatureByTheNamedHospital_verifiesAndNamesItsCertificate() throws Exception {
    byte[] signature = IdentitySignatures.sign(hospitalA.privateKey(), CONTENT);

    Identity signer = IdentitySignatures.verify(hospitalA.certificate().getEncoded(), CONTENT, signature,
        ca.certificate(), "hospital-a", Role.HOSPITAL, NOW).identity();

    assertEquals(hospitalA.certificate().getSerialNumber(), signer.serial());
  }

  @Test
  void alteredContent_isRefused() throws Exception {
    byte[] signature = IdentitySignatures.sign(hospitalA.privateKey(), CONTENT);
    byte[] altered = CONTENT.clone();
    altered[0] ^= 1;

    assertRefused("the signature does not match what it signs", hospitalA.certificate(), altered, signature,
        "hospital-a", NOW);
  }

  @Test
  void anotherParticipantsCertificate_isRefusedForTheNamedHospital() throws Exception {
    CertificateAuthority.Issued hospitalB = issue(ca, "hospital-b", Role.HOSPITAL, NOW.plus(Duration.ofDays(30)));
    CertificateAuthority.Issued coordinator = issue(ca, "hospital-a", Role.COORDINATOR, NOW.plus(Duration.ofDays(30)));

    assertRefused("its certificate names 'hospital-b' (hospital, serial", hospitalB.certificate(), CONTENT,
        IdentitySignatures.sign(hospitalB.privateKey(), CONTENT), "hospital-a", NOW);
    // Right name, wrong role: a coordinator certificate cannot speak for a hospital.
    assertRefused("its certificate names 'hospital-a' (coordinator, serial", coordinator.certificate(), CONTENT,
        IdentitySignatures.sign(coordinator.privateKey(), CONTENT), "hospital-a", NOW);
  }

  @Test
  void aCertificateFromAnotherCa_isRefused() throws Exception {
    CertificateAuthority other = CertificateAuthority.create(dir.resolve("other"), "acme", NOW.minus(Duration.ofDays(1)),
        NOW.plus(Duration.ofDays(365)));
    CertificateAuthority.Issued impostor = issue(other, "hospital-a", Role.HOSPITAL, NOW.plus(Duration.ofDays(30)));

    assertRefused("its certificate was not issued by this consortium's CA", impostor.certificate(), CONTENT,
        IdentitySignatures.sign(impostor.privateKey(), CONTENT), "hospital-a", NOW);
  }

  @Test
  void anExpiredCertificate_isRefused() throws Exception {
    byte[] signature = IdentitySignatures.sign(hospitalA.privateKey(), CONTENT);

    assertRefused("is valid only from", hospitalA.certificate(), CONTENT, signature, "hospital-a",
        NOW.plus(Duration.ofDays(31)));
  }

  @Test
  void missingOrGarbledParts_areRefusedWithTheReason() throws Exception {
    byte[] signature = IdentitySignatures.sign(hospitalA.privateKey(), CONTENT);

    assertEquals("unsigned: no certificate or signature came with it", assertThrows(IdentitySignatures.Rejected.class,
        () -> IdentitySignatures.verify(hospitalA.certificate().getEncoded(), CONTENT, new byte[0], ca.certificate(),
            "hospital-a", Role.HOSPITAL, NOW)).getMessage());
    assertTrue(assertThrows(IdentitySignatures.Rejected.class, () -> IdentitySignatures.verify(new byte[] {1, 2, 3},
        CONTENT, signature, ca.certificate(), "hospital-a", Role.HOSPITAL, NOW)).getMessage()
        .startsWith("its certificate is unreadable"));
    assertTrue(assertThrows(IdentitySignatures.Rejected.class, () -> IdentitySignatures.verify(
        hospitalA.certificate().getEncoded(), CONTENT, new byte[] {1, 2, 3}, ca.certificate(), "hospital-a",
        Role.HOSPITAL, NOW)).getMessage().startsWith("the signature"));
  }

  private void assertRefused(String expected, X509Certificate certificate, byte[] content, byte[] signature,
      String name, Instant at) throws Exception {
    String message = assertThrows(IdentitySignatures.Rejected.class, () -> IdentitySignatures.verify(
        certificate.getEncoded(), content, signature, ca.certificate(), name, Role.HOSPITAL, at)).getMessage();
    assertTrue(message.contains(expected), message);
  }

  private static CertificateAuthority.Issued issue(CertificateAuthority authority, String name, Role role,
      Instant notAfter) throws Exception {
    return authority.issue(name, role, List.of(), NOW.minus(Duration.ofDays(1)), notAfter);
  }
}
