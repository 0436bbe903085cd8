package org.medfed.coordinator;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.medfed.coordinator.store.DataFiles;
import org.medfed.coordinator.store.Database;
import org.medfed.trust.tls.TlsFiles;
import org.medfed.wire.ChunkedPayload;

/**
 * How a coordinator runs.
 *
 * @param allowedNodes when present, only these node ids may connect
 * @param maxModelBytes the largest model or update accepted, bounding memory per transfer
 * @param tls mutual TLS; empty only in plaintext development mode, which logs a loud warning
 * @param store the database holding jobs, rounds, stages and the audit trail (SQLite in
 *     {@code dataDir} unless configured otherwise)
 * @param http where the read-only dashboard and the Prometheus /metrics endpoint listen, if at all
 * @param leaseTtl how long the store's lease lasts unrenewed (renewed every third of it): how soon a
 *     stand-by on a PostgreSQL store takes over from a coordinator that died without releasing it
 * @param files how checkpoints are written under {@code dataDir}: the local disk, or in tests one that fills up
 */
public record CoordinatorConfig(Path dataDir, Optional<Set<String>> allowedNodes, Duration heartbeatInterval,
    long maxModelBytes, int chunkSize, Optional<Security> tls, Database.Settings store,
    Optional<InetSocketAddress> http, Duration leaseTtl, DataFiles files) {

  public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(10);

  /** The coordinator's TLS material and the revocation list it re-reads while running. */
  public record Security(TlsFiles files, Path revocationList, Duration revocationPoll) {}

  public CoordinatorConfig {
    allowedNodes = allowedNodes.map(Set::copyOf);
    if (maxModelBytes <= 0) {
      throw new IllegalArgumentException("maxModelBytes must be positive, got " + maxModelBytes);
    }
    if (leaseTtl.compareTo(Duration.ofMillis(300)) < 0) {
      throw new IllegalArgumentException("the lease TTL must be at least 300 ms, got " + leaseTtl.toMillis() + " ms");
    }
  }

  /** Plaintext defaults: for tests and development only; {@link #withTls} for anything real. */
  public static CoordinatorConfig defaults(Path dataDir) {
    return new CoordinatorConfig(dataDir, Optional.empty(), Duration.ofSeconds(5), 2L << 30,
        ChunkedPayload.DEFAULT_CHUNK_SIZE, Optional.empty(), Database.Settings.embedded(dataDir),
        Optional.empty(), DEFAULT_LEASE_TTL, DataFiles.local());
  }

  public CoordinatorConfig withChunkSize(int bytes) {
    return new CoordinatorConfig(dataDir, allowedNodes, heartbeatInterval, maxModelBytes, bytes, tls, store, http,
        leaseTtl, files);
  }

  public CoordinatorConfig withAllowedNodes(Set<String> nodes) {
    return new CoordinatorConfig(dataDir, Optional.of(nodes), heartbeatInterval, maxModelBytes, chunkSize, tls, store,
        http, leaseTtl, files);
  }

  public CoordinatorConfig withTls(Security security) {
    return new CoordinatorConfig(dataDir, allowedNodes, heartbeatInterval, maxModelBytes, chunkSize,
        Optional.of(security), store, http, leaseTtl, files);
  }

  public CoordinatorConfig withHttp(InetSocketAddress address) {
    return new CoordinatorConfig(dataDir, allowedNodes, heartbeatInterval, maxModelBytes, chunkSize, tls, store,
        Optional.of(address), leaseTtl, files);
  }

  public CoordinatorConfig withStore(Database.Settings settings) {
    return new CoordinatorConfig(dataDir, allowedNodes, heartbeatInterval, maxModelBytes, chunkSize, tls, settings,
        http, leaseTtl, files);
  }

  public CoordinatorConfig withLeaseTtl(Duration ttl) {
    return new CoordinatorConfig(dataDir, allowedNodes, heartbeatInterval, maxModelBytes, chunkSize, tls, store, http,
        ttl, files);
  }

  public CoordinatorConfig withFiles(DataFiles writer) {
    return new CoordinatorConfig(dataDir, allowedNodes, heartbeatInterval, maxModelBytes, chunkSize, tls, store,
        http, leaseTtl, writer);
  }

  public Path auditLog() {
    return dataDir.resolve("audit.log");
  }
}
