package org.medfed.trust.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import org.medfed.trust.pki.Identity;
import org.medfed.trust.pki.Pem;

/** Where a participant's TLS material lives: its certificate, its private key and the consortium CA. */
public record TlsFiles(Path certificate, Path privateKey, Path ca) {

  /** The loaded material. */
  public record Material(X509Certificate certificate, PrivateKey privateKey, X509Certificate ca) {
    public Identity identity() {
      return Identity.of(certificate);
    }
  }

  public Material load() throws IOException {
    return new Material(Pem.readCertificate(certificate), Pem.readPrivateKey(privateKey), Pem.readCertificate(ca));
  }
}
