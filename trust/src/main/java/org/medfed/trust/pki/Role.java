package org.medfed.trust.pki;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** What a certificate may do, written in its subject as the organisational unit (OU). */
public enum Role {
  COORDINATOR, HOSPITAL, ADMIN;

  public String unit() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<Role> ofUnit(String unit) {
    return Arrays.stream(values()).filter(r -> r.unit().equals(unit)).findFirst();
  }
}
