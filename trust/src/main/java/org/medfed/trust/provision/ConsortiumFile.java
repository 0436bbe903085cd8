package org.medfed.trust.provision;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.medfed.trust.config.YamlConfig;

/**
 * The consortium file that provisioning reads:
 *
 * <pre>
 * consortium: brca-study
 * coordinator:
 *   address: fl.example.org:7443      # what agents and admins dial
 *   names: [fl.example.org]           # names in its certificate (default: the address's host)
 * hospitals: [hospital-a, hospital-b]
 * admins: [alice]
 * validity_days: 365
 * </pre>
 */
public record ConsortiumFile(String consortium, String coordinatorHost, int coordinatorPort, List<String> coordinatorNames,
    List<String> hospitals, List<String> admins, int validityDays) {
  private static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";
  private static final Set<String> FIELDS = Set.of("consortium", "coordinator", "hospitals", "admins", "validity_days");

  public ConsortiumFile {
    coordinatorNames = List.copyOf(coordinatorNames);
    hospitals = List.copyOf(hospitals);
    admins = List.copyOf(admins);
  }

  public String coordinatorAddress() {
    return coordinatorHost + ":" + coordinatorPort;
  }

  public static ConsortiumFile read(Path file) throws IOException {
    JsonNode root;
    try {
      root = YamlConfig.read(file, FIELDS);
    } catch (IllegalArgumentException e) {
      throw new InvalidConsortiumException(e.getMessage());
    }
    String consortium = name(file, "consortium", root.path("consortium").asText(""));
    JsonNode coordinator = root.path("coordinator");
    String address = coordinator.path("address").asText("");
    int colon = address.lastIndexOf(':');
    if (colon <= 0) {
      throw new InvalidConsortiumException(file + ": coordinator.address '" + address + "' must be host:port");
    }
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new InvalidConsortiumException(file + ": the port in coordinator.address '" + address + "' is not a number");
    }
    String host = address.substring(0, colon);
    List<String> names = list(coordinator.path("names"));
    if (names.isEmpty()) {
      names = List.of(host);
    }
    List<String> hospitals = list(root.path("hospitals"));
    List<String> admins = list(root.path("admins"));
    for (String h : hospitals) {
      name(file, "hospitals", h);
    }
    for (String a : admins) {
      name(file, "admins", a);
    }
    if (hospitals.stream().distinct().count() != hospitals.size() || admins.stream().distinct().count() != admins.size()) {
      throw new InvalidConsortiumException(file + ": a hospital or admin name is listed twice");
    }
    int days = root.path("validity_days").asInt(365);
    if (days < 1) {
      throw new InvalidConsortiumException(file + ": validity_days must be at least 1, got " + days);
    }
    return new ConsortiumFile(consortium, host, port, names, hospitals, admins, days);
  }

  private static List<String> list(JsonNode node) {
    List<String> out = new ArrayList<>();
    node.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static String name(Path file, String field, String value) {
    if (!value.matches(NAME)) {
      throw new InvalidConsortiumException(file + ": " + field + " '" + value
          + "' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    return value;
  }

  /** The consortium file is wrong; the message names the file and the field. */
  public static final class InvalidConsortiumException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidConsortiumException(String message) {
      super(message);
    }
  }
}
