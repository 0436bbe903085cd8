package org.medfed.coordinator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.medfed.trust.config.YamlConfig;
import org.medfed.trust.tls.TlsFiles;

/** An admin's startup kit: {@code admin.yaml} with the coordinator address and the TLS files next to it. */
record AdminKit(String coordinator, TlsFiles tls) {
  static AdminKit load(Path kit) {
    Path file = Files.isDirectory(kit) ? kit.resolve("admin.yaml") : kit;
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(kit + " is not an admin startup kit (no admin.yaml); make one with"
          + " `medfed provision` and pass its folder with --kit");
    }
    JsonNode root = YamlConfig.read(file, Set.of("coordinator", "tls"));
    if (!root.hasNonNull("coordinator")) {
      throw new IllegalArgumentException(file + ": missing required field 'coordinator'");
    }
    return new AdminKit(root.get("coordinator").asText(), YamlConfig.tlsFiles(file, root.get("tls")));
  }
}
