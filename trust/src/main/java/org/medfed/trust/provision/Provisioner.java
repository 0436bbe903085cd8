package org.medfed.trust.provision;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.medfed.trust.pki.CertificateAuthority;
import org.medfed.trust.pki.Pem;
import org.medfed.trust.pki.Role;

/**
 * Writes a consortium's CA and one startup kit per participant from a {@link ConsortiumFile}:
 * {@code ca/}, {@code coordinator/}, {@code hospitals/NAME/} and {@code admins/NAME/}, each kit with
 * its certificate, private key (0600), the CA certificate, a ready configuration and a README.
 * Running it again after adding participants issues kits for the new ones only; existing kits and
 * the CA are kept as they are.
 */
public final class Provisioner {
  private final Clock clock;

  public Provisioner(Clock clock) {
    this.clock = clock;
  }

  /** What a run did. */
  public record Report(Path caDir, List<Path> created, List<Path> kept) {}

  public Report provision(ConsortiumFile consortium, Path out) throws IOException {
    Instant now = clock.instant();
    // Backdated a little so a participant whose clock runs slightly behind can use a fresh kit.
    Instant notBefore = now.minus(Duration.ofMinutes(10));
    Instant notAfter = now.plus(Duration.ofDays(consortium.validityDays()));
    Path caDir = out.resolve("ca");
    CertificateAuthority ca = CertificateAuthority.existsIn(caDir) ? CertificateAuthority.load(caDir)
        : CertificateAuthority.create(caDir, consortium.consortium(), notBefore, now.plus(Duration.ofDays(
            Math.max(consortium.validityDays(), 3650))));
    if (!ca.consortium().equals(consortium.consortium())) {
      throw new IOException(caDir + " holds the CA of consortium '" + ca.consortium() + "', not '"
          + consortium.consortium() + "'; use another output folder");
    }
    List<Path> created = new ArrayList<>();
    List<Path> kept = new ArrayList<>();
    KitSpec coordinatorKit = new KitSpec(out.resolve("coordinator"), "coordinator", Role.COORDINATOR,
        consortium.coordinatorNames(), "coordinator.yaml", coordinatorConfig(consortium), coordinatorReadme(consortium));
    List<KitSpec> kits = new ArrayList<>(List.of(coordinatorKit));
    for (String hospital : consortium.hospitals()) {
      kits.add(new KitSpec(out.resolve("hospitals").resolve(hospital), hospital, Role.HOSPITAL, List.of(), "agent.yaml",
          agentConfig(consortium, hospital), agentReadme(consortium, hospital)));
    }
    for (String admin : consortium.admins()) {
      kits.add(new KitSpec(out.resolve("admins").resolve(admin), admin, Role.ADMIN, List.of(), "admin.yaml",
          adminConfig(consortium, admin), adminReadme(consortium, admin)));
    }
    for (KitSpec kit : kits) {
      if (Files.exists(kit.dir().resolve(kit.name() + ".crt"))) {
        kept.add(kit.dir());
        continue;
      }
      CertificateAuthority.Issued issued = ca.issue(kit.name(), kit.role(), kit.hostNames(), notBefore, notAfter);
      Files.createDirectories(kit.dir());
      Pem.write(kit.dir().resolve(kit.name() + ".key"), issued.privateKey(), true);
      Pem.write(kit.dir().resolve(kit.name() + ".crt"), issued.certificate(), false);
      Files.copy(caDir.resolve(CertificateAuthority.CERTIFICATE), kit.dir().resolve("ca.crt"),
          StandardCopyOption.REPLACE_EXISTING);
      Files.writeString(kit.dir().resolve(kit.configName()), kit.config(), StandardCharsets.UTF_8);
      Files.writeString(kit.dir().resolve("README.md"), kit.readme(), StandardCharsets.UTF_8);
      created.add(kit.dir());
    }
    publishCrl(ca, out);
    return new Report(caDir, created, kept);
  }

  /** Copies the CA's current revocation list into the coordinator's kit, where the running coordinator reads it. */
  public static Path publishCrl(CertificateAuthority ca, Path out) throws IOException {
    Path coordinatorKit = out.resolve("coordinator");
    Path target = coordinatorKit.resolve(CertificateAuthority.CRL);
    if (Files.isDirectory(coordinatorKit)) {
      Path temp = coordinatorKit.resolve(CertificateAuthority.CRL + ".tmp");
      Files.copy(ca.crlFile(), temp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    return target;
  }

  private record KitSpec(Path dir, String name, Role role, List<String> hostNames, String configName, String config,
      String readme) {}

  private static String coordinatorConfig(ConsortiumFile c) {
    return """
        # medfed coordinator of consortium '%s' (written by `medfed provision`)
        port: %d
        bind: 0.0.0.0
        data_dir: data
        tls:
          certificate: coordinator.crt
          private_key: coordinator.key
          ca: ca.crt
          # Re-read while running: `medfed revoke` writes it here.
          revocation_list: revoked.crl
        # Read-only dashboard and Prometheus /metrics. No login: keep it on loopback, or put it
        # behind your reverse proxy; `http: false` turns it off.
        http:
          bind: 127.0.0.1
          port: 8080
        # Jobs, rounds, stages and a copy of the audit trail live in SQLite under data_dir.
        # For PostgreSQL instead:
        # store:
        #   url: jdbc:postgresql://db.example.org:5432/medfed
        #   user: medfed
        #   password_file: db-password
        """.formatted(c.consortium(), c.coordinatorPort());
  }

  private static String agentConfig(ConsortiumFile c, String hospital) {
    return """
        # medfed node agent of '%s' in consortium '%s' (written by `medfed provision`)
        node_id: %s
        coordinator: %s
        tls:
          certificate: %s.crt
          private_key: %s.key
          ca: ca.crt
        # Approvals, pending jobs and the audit log live here.
        state_dir: state
        # Jobs run only after an operator approves their digest (`medfed-agent approve`).
        auto_approve_jobs: false
        # Prometheus metrics (connected, tasks, bytes); off unless uncommented. Opens a local port.
        # metrics: {bind: 127.0.0.1, port: 9464}
        # Declare the datasets this hospital offers, e.g.:
        #  - name: scans
        #    kind: imaging
        #    format: image_folders
        #    location: /data/scans
        #    classes: [normal, nodule]
        datasets: []
        """.formatted(hospital, c.consortium(), hospital, c.coordinatorAddress(), hospital, hospital);
  }

  private static String adminConfig(ConsortiumFile c, String admin) {
    return """
        # medfed admin '%s' of consortium '%s' (written by `medfed provision`)
        coordinator: %s
        tls:
          certificate: %s.crt
          private_key: %s.key
          ca: ca.crt
        """.formatted(admin, c.consortium(), c.coordinatorAddress(), admin, admin);
  }

  private static String coordinatorReadme(ConsortiumFile c) {
    return """
        # Coordinator startup kit — consortium '%s'

        Start the coordinator from this folder:

            medfed serve --config coordinator.yaml

        - `coordinator.key` is this coordinator's private key: keep it on this machine only (mode 0600).
        - Agents and admins connect with mutual TLS on port %d and must dial one of the names in the
          certificate: %s.
        - `revoked.crl` is the consortium's revocation list; the running coordinator re-reads it, so
          `medfed revoke` takes effect within seconds without a restart.
        - The audit log is written to `data/audit.log`; check it with `medfed audit verify data/audit.log`.
        - Jobs and rounds are stored as each stage begins (`data/medfed.db`, or PostgreSQL under `store:`):
          restart a killed coordinator with the same command and its running jobs resume.
        - The dashboard and Prometheus metrics are on http://127.0.0.1:8080/ (see `http:`).
        """.formatted(c.consortium(), c.coordinatorPort(), String.join(", ", c.coordinatorNames()));
  }

  private static String agentReadme(ConsortiumFile c, String hospital) {
    return """
        # Node agent startup kit — '%s' in consortium '%s'

        1. Declare your datasets under `datasets:` in `agent.yaml` (see the example there).
        2. Start the agent from this folder:

               medfed-agent --config agent.yaml

           It dials out to %s (no inbound port is opened) with mutual TLS.
        3. Jobs run only after you approve them. When a job arrives the agent logs its digest:

               medfed-agent jobs --config agent.yaml            # pending and decided jobs
               medfed-agent show --config agent.yaml DIGEST     # what the job would run
               medfed-agent approve --config agent.yaml DIGEST
               medfed-agent reject --config agent.yaml DIGEST

        - `%s.key` is this hospital's private key: keep it on this machine only (mode 0600). If it is
          lost or stolen, tell the consortium operator to revoke it.
        - The audit log is `state/audit.log`; check it with `medfed-agent audit --config agent.yaml`.
        """.formatted(hospital, c.consortium(), c.coordinatorAddress(), hospital);
  }

  private static String adminReadme(ConsortiumFile c, String admin) {
    return """
        # Admin startup kit — '%s' in consortium '%s'

        Consortium commands talk to the coordinator at %s with this kit's certificate:

            medfed submit --kit . job.yaml --watch
            medfed jobs --kit .
            medfed nodes --kit .

        `%s.key` is your private key (mode 0600): never share it.
        """.formatted(admin, c.consortium(), c.coordinatorAddress(), admin);
  }
}
