package org.medfed.trust.provision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.trust.pki.CertificateAuthority;
import org.medfed.trust.pki.Identity;
import org.medfed.trust.pki.Pem;
import org.medfed.trust.pki.RevocationList;
import org.medfed.trust.pki.Role;

class ProvisionerTest {
  @TempDir Path dir;

  private Path consortium(String hospitals) throws Exception {
    Path file = dir.resolve("consortium.yaml");
    Files.writeString(file, """
        consortium: brca-study
        coordinator: {address: "localhost:7443", names: [localhost, 127.0.0.1]}
        hospitals: %s
        admins: [alice]
        """.formatted(hospitals));
    return file;
  }

  @Test
  void provisioning_writesSignedKitsWithPrivateKeysOwnerOnly() throws Exception {
    Path out = dir.resolve("kits");
    Provisioner.Report report = new Provisioner(Clock.systemUTC())
        .provision(ConsortiumFile.read(consortium("[hospital-a, hospital-b]")), out);

    assertEquals(4, report.created().size());
    X509Certificate ca = Pem.readCertificate(out.resolve("ca/ca.crt"));
    for (String kit : List.of("coordinator/coordinator", "hospitals/hospital-a/hospital-a", "admins/alice/alice")) {
      X509Certificate certificate = Pem.readCertificate(out.resolve(kit + ".crt"));
      certificate.verify(ca.getPublicKey());
      assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
          Files.getPosixFilePermissions(out.resolve(kit + ".key")), kit);
      Pem.readPrivateKey(out.resolve(kit + ".key"));
    }
    Identity hospital = Identity.of(Pem.readCertificate(out.resolve("hospitals/hospital-a/hospital-a.crt")));
    assertEquals("hospital-a", hospital.name());
    assertEquals(Role.HOSPITAL, hospital.role().orElseThrow());
    assertEquals("brca-study", hospital.consortium());
    assertTrue(Files.readString(out.resolve("hospitals/hospital-a/agent.yaml")).contains("coordinator: localhost:7443"));
    assertTrue(Files.readString(out.resolve("coordinator/coordinator.yaml")).contains("revocation_list: revoked.crl"));
    assertTrue(Files.exists(out.resolve("coordinator/revoked.crl")));
    assertTrue(Files.exists(out.resolve("hospitals/hospital-b/README.md")));
  }

  @Test
  void addingAHospitalLater_issuesOnlyItsKitAndKeepsTheOthers() throws Exception {
    Path out = dir.resolve("kits");
    Provisioner provisioner = new Provisioner(Clock.systemUTC());
    provisioner.provision(ConsortiumFile.read(consortium("[hospital-a]")), out);
    byte[] before = Files.readAllBytes(out.resolve("hospitals/hospital-a/hospital-a.crt"));
    byte[] caBefore = Files.readAllBytes(out.resolve("ca/ca.crt"));

    Provisioner.Report again = provisioner.provision(ConsortiumFile.read(consortium("[hospital-a, hospital-c]")), out);

    assertEquals(List.of(out.resolve("hospitals/hospital-c")), again.created());
    assertTrue(again.kept().contains(out.resolve("hospitals/hospital-a")));
    assertTrue(Arrays.equals(before, Files.readAllBytes(out.resolve("hospitals/hospital-a/hospital-a.crt"))));
    assertTrue(Arrays.equals(caBefore, Files.readAllBytes(out.resolve("ca/ca.crt"))));
    Pem.readCertificate(out.resolve("hospitals/hospital-c/hospital-c.crt"))
        .verify(Pem.readCertificate(out.resolve("ca/ca.crt")).getPublicKey());
  }

  @Test
  void revoking_updatesTheSignedListThatARunningProcessReloads() throws Exception {
    Path out = dir.resolve("kits");
    new Provisioner(Clock.systemUTC()).provision(ConsortiumFile.read(consortium("[hospital-a, hospital-b]")), out);
    CertificateAuthority ca = CertificateAuthority.load(out.resolve("ca"));
    Identity a = Identity.of(Pem.readCertificate(out.resolve("hospitals/hospital-a/hospital-a.crt")));
    Identity b = Identity.of(Pem.readCertificate(out.resolve("hospitals/hospital-b/hospital-b.crt")));
    CountDownLatch changed = new CountDownLatch(1);
    try (RevocationList list = RevocationList.watch(out.resolve("coordinator/revoked.crl"), ca.certificate(),
        Duration.ofMillis(50), l -> changed.countDown())) {
      assertFalse(list.revokedAt(a.serial()).isPresent());

      assertEquals(List.of(a.serial()), ca.revoke("hospital-a", Role.HOSPITAL, "laptop stolen", Instant.now()));
      Provisioner.publishCrl(ca, out);

      assertTrue(changed.await(10, TimeUnit.SECONDS), "the list was not reloaded");
      assertTrue(list.revokedAt(a.serial()).isPresent());
      assertFalse(list.revokedAt(b.serial()).isPresent());
    }
  }

  @Test
  void malformedConsortiumFile_namesTheField() throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "consortium: x\ncoordinator: {address: nohost}\nhospitals: [a]\n");
    ConsortiumFile.InvalidConsortiumException e = assertThrows(ConsortiumFile.InvalidConsortiumException.class,
        () -> ConsortiumFile.read(file));
    assertTrue(e.getMessage().contains("coordinator.address"), e.getMessage());
  }
}
