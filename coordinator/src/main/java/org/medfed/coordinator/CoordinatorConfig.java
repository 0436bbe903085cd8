package org.medfed.coordinator;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * How a coordinator runs.
 *
 * @param allowedNodes when present, only these node ids may connect
 * @param maxModelBytes the largest model or update accepted, bounding memory per transfer
 */
public record CoordinatorConfig(Path dataDir, Optional<Set<String>> allowedNodes, Duration heartbeatInterval,
    long maxModelBytes, int chunkSize) {
  public CoordinatorConfig {
    allowedNodes = allowedNodes.map(Set::copyOf);
    if (maxModelBytes <= 0) {
      throw new IllegalArgumentException("maxModelBytes must be positive, got " + maxModelBytes);
    }
  }

  public static CoordinatorConfig defaults(Path dataDir) {
    return new CoordinatorConfig(dataDir, Optional.empty(), Duration.ofSeconds(5), 2L << 30,
        org.medfed.wire.ChunkedPayload.DEFAULT_CHUNK_SIZE);
  }

  public CoordinatorConfig withChunkSize(int bytes) {
    return new CoordinatorConfig(dataDir, allowedNodes, heartbeatInterval, maxModelBytes, bytes);
  }

  public CoordinatorConfig withAllowedNodes(Set<String> nodes) {
    return new CoordinatorConfig(dataDir, Optional.of(nodes), heartbeatInterval, maxModelBytes, chunkSize);
  }
}
