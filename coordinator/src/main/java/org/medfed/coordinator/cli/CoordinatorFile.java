package org.medfed.coordinator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.trust.tls.KitConfig;

/** {@code coordinator.yaml}, as `medfed provision` writes it; relative paths resolve against its folder. */
record CoordinatorFile(int port, String bind, Path dataDir, Optional<CoordinatorConfig.Security> security) {
  private static final Set<String> FIELDS = Set.of("port", "bind", "data_dir", "tls");

  static CoordinatorFile plaintext() {
    return new CoordinatorFile(7443, "0.0.0.0", Path.of("medfed-data"), Optional.empty());
  }

  static CoordinatorFile load(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot be read as YAML (" + e.getMessage().lines().findFirst().orElse("")
          + ")");
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(file + ": expected a mapping with port, data_dir and tls");
    }
    root.fieldNames().forEachRemaining(name -> {
      if (!FIELDS.contains(name)) {
        throw new IllegalArgumentException(file + ": unknown field '" + name + "'; known fields: " + FIELDS);
      }
    });
    Path base = file.toAbsolutePath().getParent();
    JsonNode tls = root.get("tls");
    CoordinatorConfig.Security security = new CoordinatorConfig.Security(KitConfig.tlsFiles(file, tls),
        KitConfig.path(file, base, tls, "revocation_list"), Duration.ofSeconds(1));
    return new CoordinatorFile(root.path("port").asInt(7443), root.path("bind").asText("0.0.0.0"),
        base.resolve(root.path("data_dir").asText("data")).normalize(), Optional.of(security));
  }
}
