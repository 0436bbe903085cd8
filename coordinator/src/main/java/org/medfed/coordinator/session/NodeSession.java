package org.medfed.coordinator.session;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.medfed.proto.v1.CoordinatorMessage;
import org.medfed.proto.v1.DatasetDescriptor;
import org.medfed.proto.v1.SecAggKeyDirectory;
import org.medfed.proto.v1.SecAggPublicKeys;
import org.medfed.trust.pki.Identity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connected hospital agent: its identity, what it announced, and the stream to send it tasks.
 * Thread-safe: the round, the registry and gRPC all use it.
 */
public final class NodeSession {
  private static final Logger log = LoggerFactory.getLogger(NodeSession.class);

  private final String sessionId;
  private final String nodeId;
  private final String softwareVersion;
  private final List<DatasetDescriptor> datasets;
  private final Instant connectedAt;
  private final Optional<Identity> identity;
  private final Optional<X509Certificate> certificate;
  /** Fingerprints of the certificates this session's key directories carried in full; guarded by stream. */
  /** Each certificate this session carried in full (DER), by its number: 1, 2, ... in the order sent. */
  private final Map<ByteString, Integer> certificatesSent = new HashMap<>();
  private final ServerCallStreamObserver<CoordinatorMessage> stream;
  private final int maxConcurrentTasks;
  private volatile Instant lastSeen;
  private volatile boolean open = true;

  NodeSession(String sessionId, String nodeId, String softwareVersion, List<DatasetDescriptor> datasets,
      Instant connectedAt, Optional<Identity> identity, Optional<X509Certificate> certificate,
      ServerCallStreamObserver<CoordinatorMessage> stream, int maxConcurrentTasks) {
    this.identity = identity;
    this.certificate = certificate;
    this.maxConcurrentTasks = Math.max(1, maxConcurrentTasks);
    this.sessionId = sessionId;
    this.nodeId = nodeId;
    this.softwareVersion = softwareVersion;
    this.datasets = List.copyOf(datasets);
    this.connectedAt = connectedAt;
    this.lastSeen = connectedAt;
    this.stream = stream;
  }

  public String nodeId() {
    return nodeId;
  }

  /** The certificate the node connected with; empty only in plaintext development mode. */
  public Optional<Identity> identity() {
    return identity;
  }

  /** The certificate the node's TLS session presented, which signs its secure-aggregation round keys. */
  public Optional<X509Certificate> certificate() {
    return certificate;
  }

  public String sessionId() {
    return sessionId;
  }

  public String softwareVersion() {
    return softwareVersion;
  }

  public List<DatasetDescriptor> datasets() {
    return datasets;
  }

  public Optional<DatasetDescriptor> dataset(String name) {
    return datasets.stream().filter(d -> d.getName().equals(name)).findFirst();
  }

  /** How many rounds, of different jobs, the hospital said it runs at once (at least 1). */
  public int maxConcurrentTasks() {
    return maxConcurrentTasks;
  }

  public Instant connectedAt() {
    return connectedAt;
  }

  public Instant lastSeen() {
    return lastSeen;
  }

  void touch(Instant now) {
    lastSeen = now;
  }

  public boolean isOpen() {
    return open;
  }

  /** Sends a message; returns false if the session is already closed. */
  public boolean send(CoordinatorMessage message) {
    synchronized (stream) {
      if (!open || stream.isCancelled()) {
        return false;
      }
      try {
        stream.onNext(message);
        return true;
      } catch (RuntimeException e) {
        log.debug("send to node '{}' failed: {}", nodeId, e.getMessage());
        return false;
      }
    }
  }

  /**
   * Sends a key directory in which each certificate travels in full only the first time this
   * session carries it (since protocol 3); later directories, of any job, name it by its number on
   * this session (protocol 4; its SHA-256 in protocol 3). Numbering and sending happen under the
   * stream's lock, so the numbers follow the stream's order, in which the agent numbers the
   * certificates it receives, and a directory that names one always follows the one that carried
   * it. A node that reconnects has a new session and gets every certificate again.
   */
  public boolean sendDirectory(SecAggKeyDirectory directory) {
    synchronized (stream) {
      SecAggKeyDirectory.Builder sent = directory.toBuilder();
      for (SecAggPublicKeys.Builder keys : sent.getKeysBuilderList()) {
        if (!keys.getCertificate().isEmpty()) {
          Integer number = certificatesSent.get(keys.getCertificate());
          if (number == null) {
            certificatesSent.put(keys.getCertificate(), certificatesSent.size() + 1);
          } else {
            keys.clearCertificate().setCertificateNumber(number);
          }
        }
      }
      return send(CoordinatorMessage.newBuilder().setSecaggDirectory(sent).build());
    }
  }

  void close(Status status) {
    synchronized (stream) {
      if (!open) {
        return;
      }
      open = false;
      try {
        if (status.isOk()) {
          stream.onCompleted();
        } else {
          stream.onError(status.asRuntimeException());
        }
      } catch (RuntimeException e) {
        log.debug("closing node '{}' session: {}", nodeId, e.getMessage());
      }
    }
  }

  void markClosed() {
    synchronized (stream) {
      open = false;
    }
  }

  @Override
  public String toString() {
    return "NodeSession[" + nodeId + ", " + softwareVersion + ", session " + sessionId + "]";
  }
}
