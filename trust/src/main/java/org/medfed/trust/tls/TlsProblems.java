package org.medfed.trust.tls;

import io.grpc.Status;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.time.Instant;
import java.util.Optional;
import javax.net.ssl.SSLException;
import org.medfed.trust.pki.Identity;

/** Turns what a failed TLS connection reports on the client side into a sentence that says what to check. */
public final class TlsProblems {
  private TlsProblems() {}

  /** A client's own certificate checked before dialling: expired or not yet valid gets a clear refusal. */
  public static Optional<String> ownCertificateProblem(Identity identity, Instant now) {
    if (now.isAfter(identity.notAfter())) {
      return Optional.of("this machine's certificate " + identity + " expired at " + identity.notAfter()
          + "; ask the consortium operator for a new startup kit");
    }
    if (now.isBefore(identity.notBefore())) {
      return Optional.of("this machine's certificate " + identity + " is not valid before " + identity.notBefore()
          + "; check the clock");
    }
    return Optional.empty();
  }

  /** An explanation when {@code status} failed for a TLS reason, for a connection to {@code target}. */
  public static Optional<String> explain(Status status, String target) {
    Throwable cause = status.getCause();
    StringBuilder chain = new StringBuilder(status.getDescription() == null ? "" : status.getDescription());
    boolean tls = false;
    for (Throwable t = cause; t != null; t = t.getCause()) {
      chain.append(" | ").append(t.getMessage());
      if (t instanceof SSLException || t instanceof CertificateExpiredException
          || t instanceof CertificateNotYetValidException || t instanceof CertificateException) {
        tls = true;
      }
    }
    String text = chain.toString();
    if (!tls && !text.contains("SSL") && !text.contains("certificate") && !text.contains("handshake")) {
      return Optional.empty();
    }
    String lower = text.toLowerCase();
    if (lower.contains("no subject alternative") || lower.contains("no name matching")
        || lower.contains("hostname") && lower.contains("match")) {
      return Optional.of("the coordinator at " + target + " presented a certificate that is not for that name ("
          + firstLine(text) + "); check the coordinator address in your configuration against the names in the"
          + " coordinator's certificate");
    }
    if (lower.contains("expired") || lower.contains("notafter") || cause instanceof CertificateExpiredException) {
      return Optional.of("a certificate in the TLS handshake with " + target + " has expired (" + firstLine(text)
          + "); renew the expired startup kit");
    }
    if (lower.contains("pkix") || lower.contains("unable to find valid certification path")
        || lower.contains("unknown_ca") || lower.contains("unknown ca")) {
      return Optional.of("the coordinator at " + target + " presented a certificate this kit's CA did not issue"
          + " (" + firstLine(text) + "); check that ca.crt comes from the same consortium as the coordinator");
    }
    if (lower.contains("certificate_unknown") || lower.contains("bad_certificate") || lower.contains("bad certificate")
        || lower.contains("certificate_required")) {
      return Optional.of("the coordinator at " + target + " refused this machine's certificate during the TLS"
          + " handshake (" + firstLine(text) + "); is the certificate from this consortium's CA?");
    }
    return Optional.of("TLS with " + target + " failed: " + firstLine(text));
  }

  private static String firstLine(String text) {
    String trimmed = text.startsWith(" | ") ? text.substring(3) : text;
    return trimmed.length() > 300 ? trimmed.substring(0, 300) + "..." : trimmed;
  }
}
