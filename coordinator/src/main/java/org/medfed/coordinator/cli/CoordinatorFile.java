package org.medfed.coordinator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.trust.config.YamlConfig;

/** {@code coordinator.yaml}, as `medfed provision` writes it; relative paths resolve against its folder. */
record CoordinatorFile(int port, String bind, Path dataDir, Optional<CoordinatorConfig.Security> security) {
  private static final Set<String> FIELDS = Set.of("port", "bind", "data_dir", "tls");

  static CoordinatorFile plaintext() {
    return new CoordinatorFile(7443, "0.0.0.0", Path.of("medfed-data"), Optional.empty());
  }

  static CoordinatorFile load(Path file) {
    JsonNode root = YamlConfig.read(file, FIELDS);
    Path base = file.toAbsolutePath().getParent();
    JsonNode tls = root.get("tls");
    CoordinatorConfig.Security security = new CoordinatorConfig.Security(YamlConfig.tlsFiles(file, tls),
        YamlConfig.path(file, tls, "revocation_list"), Duration.ofSeconds(1));
    return new CoordinatorFile(root.path("port").asInt(7443), root.path("bind").asText("0.0.0.0"),
        base.resolve(root.path("data_dir").asText("data")).normalize(), Optional.of(security));
  }
}
