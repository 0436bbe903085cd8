package org.medfed.coordinator.cli;

/** A host:port address as given on the command line or in a configuration file. */
record HostPort(String host, int port) {
  static HostPort parse(String text, String where) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException(where + " must be host:port, got '" + text + "'");
    }
    try {
      int port = Integer.parseInt(text.substring(colon + 1));
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return new HostPort(text.substring(0, colon), port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(where + ": the port in '" + text + "' must be a number in 0..65535");
    }
  }
}
