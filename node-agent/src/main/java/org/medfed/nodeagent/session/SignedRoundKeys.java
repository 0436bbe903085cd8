package org.medfed.nodeagent.session;

import com.google.protobuf.ByteString;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.medfed.proto.v1.SecAggKeys;
import org.medfed.proto.v1.SecAggPublicKeys;
import org.medfed.proto.v1.SecAggSetup;
import org.medfed.secagg.SecAggException;
import org.medfed.secagg.protocol.Messages;
import org.medfed.secagg.protocol.Signatures;
import org.medfed.trust.pki.IdentitySignatures;
import org.medfed.trust.pki.Role;
import org.medfed.trust.tls.TlsFiles;

/**
 * Binds secure-aggregation round keys to the consortium's certificates, the hospital's side: it signs
 * its own keys with its TLS key, and refuses a key directory in which any peer's keys are not signed
 * by that peer's own hospital certificate. Without the check a coordinator could hand out keys of its
 * own in a peer's name, collect the shares meant for that peer and unmask one hospital's update.
 * In plaintext development mode (no TLS) there is nothing to sign with and it does neither.
 */
final class SignedRoundKeys {
  private final Optional<TlsFiles.Material> identity;
  private final Clock clock;

  SignedRoundKeys(Optional<TlsFiles.Material> identity, Clock clock) {
    this.identity = identity;
    this.clock = clock;
  }

  /** The message that advertises {@code keys}, signed when this agent has a certificate. */
  SecAggKeys message(String taskId, Messages.AdvertiseKeys keys, byte[] context, String nodeId) {
    SecAggKeys.Builder message = SecAggKeys.newBuilder().setTaskId(taskId)
        .setEncryptionKey(ByteString.copyFrom(keys.encryptionKey()))
        .setMaskingKey(ByteString.copyFrom(keys.maskingKey()));
    identity.ifPresent(own -> message
        .setSignature(ByteString.copyFrom(IdentitySignatures.sign(own.privateKey(), keys.signedContent(context, nodeId))))
        .setCertificate(ByteString.copyFrom(encoded(own))));
    return message.build();
  }

  /**
   * The directory as the protocol library reads it, once every peer's keys are shown to be that
   * peer's.
   *
   * @throws SecAggException naming the first peer whose keys are not signed by its certificate
   */
  Messages.KeyDirectory verified(SecAggSetup setup, List<SecAggPublicKeys> directory, int self) {
    Map<Integer, String> names = setup.getParticipantIdsMap().entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getValue, Map.Entry::getKey));
    for (SecAggPublicKeys peer : directory) {
      if (identity.isEmpty() || peer.getId() == self) {
        continue;  // own keys: the protocol client checks they came back unchanged
      }
      String name = names.get(peer.getId());
      if (name == null) {
        throw new SecAggException("refusing the key directory: it lists participant " + peer.getId()
            + ", who is not in this round's setup");
      }
      try {
        IdentitySignatures.verify(peer.getCertificate().toByteArray(), advertised(peer).signedContent(
            setup.getContext().toByteArray(), name), peer.getSignature().toByteArray(), identity.get().ca(), name,
            Role.HOSPITAL, clock.instant());
      } catch (IdentitySignatures.Rejected e) {
        throw new SecAggException("refusing the key directory: the keys of participant " + peer.getId() + " ('"
            + name + "') are not that hospital's: " + e.getMessage()
            + "; the coordinator, or someone between it and that hospital, altered them");
      }
    }
    return new Messages.KeyDirectory(directory.stream().map(SignedRoundKeys::advertised).toList());
  }

  /** This hospital's identity for one round's consistency check; see {@link Round}. */
  Round round(SecAggSetup setup) {
    return new Round(setup);
  }

  /**
   * The consistency check's signatures for one round: this hospital signs the survivor set with its
   * certificate key, and a peer's signature counts only when it verifies under the certificate that
   * signed that peer's round keys in the key directory (already checked there against the CA and the
   * peer's name; its validity is checked again against the clock). One ECDSA verification per
   * signature, not two: with 100 hospitals that is 100 per hospital and round. In plaintext development mode there are no certificates: it signs nothing
   * and cannot tell a peer's signature from the coordinator's, as it cannot for the round keys.
   */
  final class Round implements Signatures {
    private final SecAggSetup setup;
    private final Map<Integer, String> names;
    private final Map<Integer, X509Certificate> certificates = new ConcurrentHashMap<>();

    private Round(SecAggSetup setup) {
      this.setup = setup;
      this.names = setup.getParticipantIdsMap().entrySet().stream()
          .collect(Collectors.toMap(Map.Entry::getValue, Map.Entry::getKey));
    }

    /** As {@link SignedRoundKeys#verified}, and remembers each peer's certificate for its later signature. */
    Messages.KeyDirectory verified(List<SecAggPublicKeys> directory, int self) {
      Messages.KeyDirectory verified = SignedRoundKeys.this.verified(setup, directory, self);
      if (identity.isPresent()) {
        for (SecAggPublicKeys peer : directory) {
          if (peer.getId() == self) {
            continue;
          }
          try {
            certificates.put(peer.getId(), IdentitySignatures.certificate(peer.getCertificate().toByteArray()));
          } catch (IdentitySignatures.Rejected e) {
            throw new IllegalStateException("a certificate that verified cannot be read again: " + e.getMessage(), e);
          }
        }
        // Its own certificate from its own files, not as the coordinator echoed it.
        certificates.put(self, identity.get().certificate());
      }
      return verified;
    }

    @Override
    public byte[] sign(byte[] content) {
      return identity.map(own -> IdentitySignatures.sign(own.privateKey(), content)).orElse(new byte[0]);
    }

    @Override
    public Optional<String> problem(int signer, byte[] content, byte[] signature) {
      if (identity.isEmpty()) {
        return Optional.empty();
      }
      String name = names.get(signer);
      X509Certificate certificate = certificates.get(signer);
      if (name == null || certificate == null) {
        return Optional.of("node " + signer + " has no certified round keys in this round's key directory");
      }
      try {
        IdentitySignatures.verifyAgain(certificate, content, signature, clock.instant());
        return Optional.empty();
      } catch (IdentitySignatures.Rejected e) {
        return Optional.of("'" + name + "': " + e.getMessage());
      }
    }
  }

  private static Messages.AdvertiseKeys advertised(SecAggPublicKeys keys) {
    return new Messages.AdvertiseKeys(keys.getId(), keys.getEncryptionKey().toByteArray(),
        keys.getMaskingKey().toByteArray());
  }

  private static byte[] encoded(TlsFiles.Material own) {
    try {
      return own.certificate().getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("this agent's certificate cannot be encoded: " + e.getMessage(), e);
    }
  }
}
