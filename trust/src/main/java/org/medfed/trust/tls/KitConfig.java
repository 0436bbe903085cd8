package org.medfed.trust.tls;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Set;

/** Reads the {@code tls:} section shared by coordinator.yaml, agent.yaml and admin.yaml; paths resolve against the file's folder. */
public final class KitConfig {
  private static final Set<String> FIELDS = Set.of("certificate", "private_key", "ca", "revocation_list");

  private KitConfig() {}

  /**
   * @throws IllegalArgumentException naming the file and the field when the section is incomplete
   */
  public static TlsFiles tlsFiles(Path file, JsonNode tls) {
    if (tls == null || !tls.isObject()) {
      throw new IllegalArgumentException(file + ": 'tls' must be a mapping with certificate, private_key and ca");
    }
    tls.fieldNames().forEachRemaining(name -> {
      if (!FIELDS.contains(name)) {
        throw new IllegalArgumentException(file + ": unknown field 'tls." + name + "'; known fields: " + FIELDS);
      }
    });
    Path base = file.toAbsolutePath().getParent();
    return new TlsFiles(path(file, base, tls, "certificate"), path(file, base, tls, "private_key"),
        path(file, base, tls, "ca"));
  }

  public static Path path(Path file, Path base, JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.asText().isBlank()) {
      throw new IllegalArgumentException(file + ": missing required field 'tls." + field + "'");
    }
    return base.resolve(value.asText()).normalize();
  }
}
