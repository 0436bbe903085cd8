package org.medfed.trust.tls;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.medfed.trust.pki.Identity;
import org.medfed.trust.pki.RevocationList;
import org.medfed.trust.pki.Role;

/**
 * Every call's admission check on the coordinator, after the TLS handshake proved the client holds
 * a key certified by the consortium CA: the certificate is valid now, not revoked, and its role
 * may call this service. The caller's {@link Identity} is then available to the service through
 * {@link #IDENTITY}. Refusals name the certificate and say what to do.
 */
public final class PeerAuthorization implements ServerInterceptor {
  public static final Context.Key<Identity> IDENTITY = Context.key("medfed-peer-identity");
  /** The certificate the identity was read from, as the TLS handshake checked it against the CA. */
  public static final Context.Key<X509Certificate> CERTIFICATE = Context.key("medfed-peer-certificate");

  private final Map<String, Role> roleByService;
  private final Supplier<RevocationList> revocations;
  private final Clock clock;
  private final SecurityEvents events;

  /** @param roleByService the one role allowed to call each service (full gRPC service name) */
  public PeerAuthorization(Map<String, Role> roleByService, Supplier<RevocationList> revocations, Clock clock,
      SecurityEvents events) {
    this.roleByService = Map.copyOf(roleByService);
    this.revocations = revocations;
    this.clock = clock;
    this.events = events;
  }

  /** The identity of the peer of the current call, when the server runs with mutual TLS. */
  public static Optional<Identity> current() {
    return Optional.ofNullable(IDENTITY.get());
  }

  /** The certificate of the current call's peer, when the server runs with mutual TLS. */
  public static Optional<X509Certificate> currentCertificate() {
    return Optional.ofNullable(CERTIFICATE.get());
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String service = call.getMethodDescriptor().getServiceName();
    Optional<X509Certificate> certificate = peerCertificate(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    if (certificate.isEmpty()) {
      return refuse(call, "unknown", Status.UNAUTHENTICATED, "no client certificate on this connection; connect"
          + " with mutual TLS using your startup kit");
    }
    Identity identity = Identity.of(certificate.get());
    Optional<String> problem = problem(identity, service);
    if (problem.isPresent()) {
      Status status = problem.get().startsWith("role") ? Status.PERMISSION_DENIED : Status.UNAUTHENTICATED;
      return refuse(call, identity.toString(), status, problem.get());
    }
    return Contexts.interceptCall(Context.current().withValue(IDENTITY, identity)
        .withValue(CERTIFICATE, certificate.get()), call, headers, next);
  }

  /** Why this identity may not call this service now, if it may not; also used to end open sessions. */
  public Optional<String> problem(Identity identity, String service) {
    Instant now = clock.instant();
    if (now.isAfter(identity.notAfter())) {
      return Optional.of("certificate of " + identity + " expired at " + identity.notAfter()
          + "; ask the consortium operator for a new startup kit");
    }
    if (now.isBefore(identity.notBefore())) {
      return Optional.of("certificate of " + identity + " is not valid before " + identity.notBefore()
          + "; check this machine's clock and the coordinator's");
    }
    Optional<Instant> revokedAt = revocations.get().revokedAt(identity.serial());
    if (revokedAt.isPresent()) {
      return Optional.of("certificate of " + identity + " was revoked at " + revokedAt.get()
          + "; ask the consortium operator for a new startup kit");
    }
    Role allowed = roleByService.get(service);
    if (allowed == null) {
      return Optional.of("role check: service " + service + " is not open to any certificate");
    }
    if (identity.role().orElse(null) != allowed) {
      return Optional.of("role " + identity.role().map(Role::unit).orElse("(none)") + " of " + identity
          + " may not call " + service + "; it needs a " + allowed.unit() + " certificate");
    }
    return Optional.empty();
  }

  private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String subject, Status status, String reason) {
    events.refused(subject, reason);
    call.close(status.withDescription(reason), new Metadata());
    return new ServerCall.Listener<>() { };
  }

  private static Optional<X509Certificate> peerCertificate(SSLSession session) {
    if (session == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x509 ? Optional.of(x509) : Optional.empty();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }
}
