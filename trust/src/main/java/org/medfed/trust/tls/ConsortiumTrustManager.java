package org.medfed.trust.tls;

import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.X509TrustManager;
import org.medfed.trust.pki.Identity;

/**
 * The coordinator's check of client certificates during the TLS handshake: signed by the
 * consortium CA, nothing more. Expiry, revocation and role are checked per call by
 * {@link PeerAuthorization}, which can answer with a message that says what to do; a handshake
 * failure can only close the connection.
 */
final class ConsortiumTrustManager implements X509TrustManager {
  private final X509Certificate ca;
  private final SecurityEvents events;

  ConsortiumTrustManager(X509Certificate ca, SecurityEvents events) {
    this.ca = ca;
    this.events = events;
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw refuse("unknown", "the client presented no certificate; every agent and admin needs its startup kit's");
    }
    X509Certificate leaf = chain[0];
    String subject = leaf.getSubjectX500Principal().getName();
    if (!leaf.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
      throw refuse(subject, "its certificate was issued by '" + leaf.getIssuerX500Principal().getName()
          + "', not by this consortium's CA '" + ca.getSubjectX500Principal().getName() + "'");
    }
    try {
      leaf.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw refuse(subject, "its certificate names this consortium's CA but its signature does not verify ("
          + e.getMessage() + ")");
    }
  }

  private CertificateException refuse(String subject, String reason) {
    events.refused(subject, "TLS handshake refused: " + reason);
    return new CertificateException(reason);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("the coordinator's trust manager checks clients only");
  }

  /**
   * None advertised: a client then sends its certificate even when another CA issued it, so the
   * refusal happens here, where it is logged and audited, instead of as a silent empty handshake.
   */
  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }

  static String describe(X509Certificate certificate) {
    return Identity.of(certificate).toString();
  }
}
