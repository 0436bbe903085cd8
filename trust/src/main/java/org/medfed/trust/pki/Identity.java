package org.medfed.trust.pki;

import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Who a certificate says its holder is: the name (CN, the node id for a hospital), the role (OU),
 * the consortium (O), and what revocation and expiry are checked against.
 */
public record Identity(String name, Optional<Role> role, String consortium, BigInteger serial, Instant notBefore,
    Instant notAfter) {

  public static Identity of(X509Certificate certificate) {
    String cn = "";
    String ou = "";
    String o = "";
    try {
      for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
        switch (rdn.getType().toUpperCase()) {
          case "CN" -> cn = rdn.getValue().toString();
          case "OU" -> ou = rdn.getValue().toString();
          case "O" -> o = rdn.getValue().toString();
          default -> { }
        }
      }
    } catch (InvalidNameException e) {
      throw new IllegalArgumentException("unreadable certificate subject: " + e.getMessage(), e);
    }
    return new Identity(cn, Role.ofUnit(ou), o, certificate.getSerialNumber(), certificate.getNotBefore().toInstant(),
        certificate.getNotAfter().toInstant());
  }

  /** The serial as the revocation commands print it. */
  public String serialHex() {
    return serial.toString(16);
  }

  @Override
  public String toString() {
    return "'" + name + "' (" + role.map(Role::unit).orElse("no role") + ", serial " + serialHex() + ")";
  }
}
