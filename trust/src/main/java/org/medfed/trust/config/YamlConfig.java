package org.medfed.trust.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.medfed.trust.tls.TlsFiles;

/**
 * Reading the YAML files of a consortium (consortium.yaml, coordinator.yaml, agent.yaml,
 * admin.yaml): every error names the file and the field, unknown fields are refused, and relative
 * paths resolve against the file's folder.
 */
public final class YamlConfig {
  private static final Set<String> TLS_FIELDS = Set.of("certificate", "private_key", "ca", "revocation_list");

  private YamlConfig() {}

  /**
   * Reads {@code file} as a YAML mapping whose fields are all in {@code known}.
   *
   * @throws IllegalArgumentException naming the file and what is wrong
   */
  public static JsonNode read(Path file, Set<String> known) {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot be read as YAML ("
          + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")");
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(file + ": expected a YAML mapping with the fields " + known);
    }
    checkKnown(file, "", root, known);
    return root;
  }

  public static void checkKnown(Path file, String prefix, JsonNode node, Set<String> known) {
    node.fieldNames().forEachRemaining(name -> {
      if (!known.contains(name)) {
        throw new IllegalArgumentException(file + ": unknown field '" + prefix + name + "'; known fields: " + known);
      }
    });
  }

  /** The {@code tls:} section shared by coordinator.yaml, agent.yaml and admin.yaml. */
  public static TlsFiles tlsFiles(Path file, JsonNode tls) {
    if (tls == null || !tls.isObject()) {
      throw new IllegalArgumentException(file + ": 'tls' must be a mapping with certificate, private_key and ca");
    }
    checkKnown(file, "tls.", tls, TLS_FIELDS);
    return new TlsFiles(path(file, tls, "certificate"), path(file, tls, "private_key"), path(file, tls, "ca"));
  }

  /** A required path field of the {@code tls:} section, resolved against the file's folder. */
  public static Path path(Path file, JsonNode tls, String field) {
    JsonNode value = tls.get(field);
    if (value == null || value.asText().isBlank()) {
      throw new IllegalArgumentException(file + ": missing required field 'tls." + field + "'");
    }
    return file.toAbsolutePath().getParent().resolve(value.asText()).normalize();
  }
}
