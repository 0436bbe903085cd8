package org.medfed.trust.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.medfed.trust.tls.CoordinatorAddress;
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

  /**
   * The {@code coordinator:} field of agent.yaml and admin.yaml: one {@code host:port}, or a list
   * ({@code [host1:7443, host2:7443]}) of a coordinator and its standbys, to be tried in that order.
   *
   * @throws IllegalArgumentException naming the file, the entry and what is wrong with it
   */
  public static List<CoordinatorAddress> coordinators(Path file, JsonNode root) {
    JsonNode field = root.get("coordinator");
    String form = "give host:port, or a list [host1:port, host2:port] of the active coordinator and its standbys";
    if (field == null || field.isNull()) {
      throw new IllegalArgumentException(file + ": missing required field 'coordinator'; " + form);
    }
    if (field.isArray() && field.isEmpty()) {
      throw new IllegalArgumentException(file + ": 'coordinator' lists no address; " + form);
    }
    List<JsonNode> entries = new ArrayList<>();
    if (field.isArray()) {
      field.elements().forEachRemaining(entries::add);
    } else {
      entries.add(field);
    }
    List<CoordinatorAddress> addresses = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      JsonNode entry = entries.get(i);
      String where = field.isArray() ? "coordinator[" + i + "]" : "coordinator";
      if (!entry.isValueNode()) {
        throw new IllegalArgumentException(file + ": " + where + " must be host:port, got " + entry + "; " + form);
      }
      CoordinatorAddress address;
      try {
        address = CoordinatorAddress.parse(entry.asText());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(file + ": " + where + ": " + e.getMessage());
      }
      if (addresses.contains(address)) {
        throw new IllegalArgumentException(file + ": " + where + " repeats " + address + "; list each coordinator"
            + " once");
      }
      addresses.add(address);
    }
    return List.copyOf(addresses);
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
