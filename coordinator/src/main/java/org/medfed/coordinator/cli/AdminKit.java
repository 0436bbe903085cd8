package org.medfed.coordinator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.medfed.trust.config.YamlConfig;
import org.medfed.trust.tls.CoordinatorAddress;
import org.medfed.trust.tls.TlsFiles;

/**
 * An admin's startup kit: {@code admin.yaml} with the coordinator's address (or a list: the active
 * coordinator and its standbys, tried in that order) and the TLS files next to it.
 */
record AdminKit(List<CoordinatorAddress> coordinators, TlsFiles tls) {
  AdminKit {
    coordinators = List.copyOf(coordinators);
  }

  static AdminKit load(Path kit) {
    Path file = Files.isDirectory(kit) ? kit.resolve("admin.yaml") : kit;
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(kit + " is not an admin startup kit (no admin.yaml); make one with"
          + " `medfed provision` and pass its folder with --kit");
    }
    JsonNode root = YamlConfig.read(file, Set.of("coordinator", "tls"));
    return new AdminKit(YamlConfig.coordinators(file, root), YamlConfig.tlsFiles(file, root.get("tls")));
  }
}
