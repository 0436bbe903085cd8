package org.medfed.coordinator;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
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
 */
public record CoordinatorConfig(Path dataDir, Optional<Set<String>> allowedNodes, Duration heartbeatInterval,
    long maxModelBytes, int chunkSize, Optional<Security> tls, Database.Settings store,
    Optional<InetSocketAddress> http) {

  /** The coordinator's TLS material and the revocation list it re-reads while running. */
  public record Security(TlsFiles files, Path revocationList, Duration revocationPoll) {}

  public CoordinatorConfig {
    allowedNodes = allowedNodes.map(Set::copyOf);
    if (maxModelBytes <= 0) {
      throw new IllegalArgumentException("maxModelBytes must be positive, got " + maxModelBytes);
    }
  }

  /** Plaintext defaults: for tests and development only; {@link #withTls} for anything real. */
  public static CoordinatorConfig defaults(Path dataDir) {
    return new CoordinatorConfig(dataDir, Optional.empty(), Duration.ofSeconds(5), 2L << 30,
        ChunkedPayload.DEFAULT_CHUNK_SIZE, Optional.empty(), Database.Settings.embedded(dataDir),
        Optional.empty());
  }

  public CoordinatorConfig withChunkSize(int bytes) {
    return new CoordinatorConfig(dataDir, allowedNodes, heartbeatInterval, maxModelBytes, bytes, tls, store, http);
  }

  public CoordinatorConfig withAllowedNodes(Set<String> nodes) {
    return new CoordinatorConfig(dataDir, Optional.of(nodes), heartbeatInterval, maxModelBytes, chunkSize, tls, store,
        http);
  }

  public CoordinatorConfig withTls(Security security) {
    return new CoordinatorConfig(dataDir, allowedNodes, heartbeatInterval, maxModelBytes, chunkSize,
        Optional.of(security), store, http);
  }

  public CoordinatorConfig withHttp(InetSocketAddress address) {
    return new CoordinatorConfig(dataDir, allowedNodes, heartbeatInterval, maxModelBytes, chunkSize, tls, store,
        Optional.of(address));
  }

  public CoordinatorConfig withStore(Database.Settings settings) {
    return new CoordinatorConfig(dataDir, allowedNodes, heartbeatInterval, maxModelBytes, chunkSize, tls, settings,
        http);
  }

  public Path auditLog() {
    return dataDir.resolve("audit.log");
  }
}
