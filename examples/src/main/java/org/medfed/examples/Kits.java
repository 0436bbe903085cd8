package org.medfed.examples;

import java.nio.file.Path;
import org.medfed.trust.tls.TlsFiles;

/** Where `medfed provision` puts a member's files inside its kit folder. */
public final class Kits {
  private Kits() {}

  /** The certificate, key and CA of member {@code name} in its kit folder {@code kit}. */
  public static TlsFiles tls(Path kit, String name) {
    return new TlsFiles(kit.resolve(name + ".crt"), kit.resolve(name + ".key"), kit.resolve("ca.crt"));
  }
}
