package org.medfed.trust.tls;

import java.util.Objects;

/**
 * Where an agent or an admin dials a coordinator: the host, which the coordinator's certificate must
 * name, and the port.
 */
public record CoordinatorAddress(String host, int port) {
  public CoordinatorAddress {
    Objects.requireNonNull(host, "host");
    if (host.isBlank()) {
      throw new IllegalArgumentException("coordinator address ':" + port + "' has no host; give host:port");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("coordinator port must be in 1..65535, got " + port);
    }
  }

  /**
   * Parses {@code host:port}.
   *
   * @throws IllegalArgumentException naming the text and what is wrong with it
   */
  public static CoordinatorAddress parse(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException("coordinator '" + text + "' must be host:port");
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("coordinator port in '" + text + "' is not a number");
    }
    return new CoordinatorAddress(text.substring(0, colon), port);
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
