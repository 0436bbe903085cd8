package org.medfed.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.CoordinatorConfig;

/** coordinator.yaml's lease TTL: the default, a chosen value, and a clear refusal of a bad one. */
class CoordinatorFileTest {
  private static final String TLS = "tls: {certificate: c.crt, private_key: c.key, ca: ca.crt,"
      + " revocation_list: revoked.crl}\n";

  @TempDir Path dir;

  @Test
  void leaseTtl_defaultsToTenSeconds_andIsReadInSeconds() throws Exception {
    assertEquals(CoordinatorConfig.DEFAULT_LEASE_TTL, CoordinatorFile.load(write(TLS)).leaseTtl());
    assertEquals(Duration.ofSeconds(3), CoordinatorFile.load(write(TLS + "lease_ttl_seconds: 3\n")).leaseTtl());
  }

  @Test
  void leaseTtl_thatIsNotAWholePositiveNumber_isRefusedNamingTheValueAndTheDefault() throws Exception {
    Path file = write(TLS + "lease_ttl_seconds: 10s\n");

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CoordinatorFile.load(file));

    assertEquals(file + ": lease_ttl_seconds must be a whole number of seconds >= 1, got '10s' (default 10)",
        e.getMessage());
  }

  private Path write(String yaml) throws Exception {
    return Files.writeString(dir.resolve("coordinator.yaml"), yaml);
  }
}
