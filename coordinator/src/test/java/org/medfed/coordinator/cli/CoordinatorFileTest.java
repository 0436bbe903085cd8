package org.medfed.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.wire.ChunkedPayload;

/** coordinator.yaml's lease TTL and chunk size: the defaults, chosen values, and clear refusals of bad ones. */
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

  @Test
  void chunkSize_defaultsToOneMebibyte_andIsReadInKibibytes() throws Exception {
    assertEquals(ChunkedPayload.DEFAULT_CHUNK_SIZE, CoordinatorFile.load(write(TLS)).chunkSize());
    assertEquals(256 * 1024, CoordinatorFile.load(write(TLS + "chunk_size_kib: 256\n")).chunkSize());
  }

  @Test
  void chunkSize_outsideItsRangeOrNotWhole_isRefusedNamingTheRangeTheValueAndTheDefault() throws Exception {
    for (String bad : new String[] {"8", "4096", "1.5", "'1MiB'"}) {
      Path file = write(TLS + "chunk_size_kib: " + bad + "\n");

      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CoordinatorFile.load(file));

      assertEquals(file + ": chunk_size_kib must be a whole number of KiB from 16 to 3072 (a chunk must fit gRPC's"
          + " 4 MiB message limit), got '" + bad.replace("'", "") + "' (default 1024)", e.getMessage(), bad);
    }
  }

  private Path write(String yaml) throws Exception {
    return Files.writeString(dir.resolve("coordinator.yaml"), yaml);
  }
}
