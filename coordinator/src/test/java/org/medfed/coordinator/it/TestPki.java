package org.medfed.coordinator.it;

import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.medfed.trust.pki.CertificateAuthority;
import org.medfed.trust.pki.Pem;
import org.medfed.trust.pki.Role;
import org.medfed.trust.tls.CoordinatorAddress;
import org.medfed.trust.tls.CoordinatorChannels;
import org.medfed.trust.tls.Tls;
import org.medfed.trust.tls.TlsFiles;

/** A throw-away consortium CA for a test, issuing certificates written as startup kits hold them. */
final class TestPki {
  final CertificateAuthority ca;
  private final Path dir;

  TestPki(Path dir) throws IOException {
    this.dir = dir;
    Instant now = Instant.now();
    ca = CertificateAuthority.create(dir.resolve("pki/ca"), "test-consortium", now.minusSeconds(60),
        now.plus(Duration.ofDays(1)));
  }

  /** A certificate valid now for a day. */
  TlsFiles issue(String name, Role role, List<String> hostNames) {
    Instant now = Instant.now();
    return issue(name, role, hostNames, now.minusSeconds(60), now.plus(Duration.ofDays(1)));
  }

  TlsFiles issue(String name, Role role, List<String> hostNames, Instant notBefore, Instant notAfter) {
    try {
      Path kit = dir.resolve("pki").resolve(role.unit() + "-" + name + "-" + UUID.randomUUID());
      CertificateAuthority.Issued issued = ca.issue(name, role, hostNames, notBefore, notAfter);
      Pem.write(kit.resolve(name + ".crt"), issued.certificate(), false);
      Pem.write(kit.resolve(name + ".key"), issued.privateKey(), true);
      Files.copy(dir.resolve("pki/ca/ca.crt"), kit.resolve("ca.crt"));
      return new TlsFiles(kit.resolve(name + ".crt"), kit.resolve(name + ".key"), kit.resolve("ca.crt"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A channel to each of the coordinators on 127.0.0.1 at {@code ports}, in this order, presenting {@code files}. */
  static CoordinatorChannels channels(TlsFiles files, List<Integer> ports) {
    try {
      TlsFiles.Material material = files.load();
      return CoordinatorChannels.open(ports.stream().map(port -> new CoordinatorAddress("127.0.0.1", port)).toList(),
          address -> Tls.channel(address.host(), address.port(), material).build());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A channel presenting {@code files}, dialling {@code host:port}. */
  static ManagedChannel channel(TlsFiles files, String host, int port, ClientInterceptor... interceptors) {
    try {
      return Tls.channel(host, port, files.load()).intercept(interceptors).build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
