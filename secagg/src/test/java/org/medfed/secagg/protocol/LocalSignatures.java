package org.medfed.secagg.protocol;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Ed25519 identities made in memory, one per participant, for instances that run entirely inside
 * one JVM (the protocol tests and the benchmark): real signatures without certificates.
 */
final class LocalSignatures {
  private final Map<Integer, KeyPair> keys = new TreeMap<>();

  LocalSignatures(Iterable<Integer> participants) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
      participants.forEach(id -> keys.put(id, generator.generateKeyPair()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK must provide Ed25519", e);
    }
  }

  /** Participant {@code id}'s view: it signs with its own key and checks against everyone's public key. */
  Signatures of(int id) {
    KeyPair own = keys.get(id);
    if (own == null) {
      throw new IllegalArgumentException("no identity for participant " + id + "; participants are " + keys.keySet());
    }
    return new Signatures() {
      @Override
      public byte[] sign(byte[] content) {
        try {
          Signature signer = Signature.getInstance("Ed25519");
          signer.initSign(own.getPrivate());
          signer.update(content);
          return signer.sign();
        } catch (GeneralSecurityException e) {
          throw new IllegalStateException("cannot sign with Ed25519: " + e.getMessage(), e);
        }
      }

      @Override
      public Optional<String> problem(int signer, byte[] content, byte[] signature) {
        KeyPair theirs = keys.get(signer);
        if (theirs == null) {
          return Optional.of("node " + signer + " has no identity");
        }
        try {
          Signature verifier = Signature.getInstance("Ed25519");
          verifier.initVerify(theirs.getPublic());
          verifier.update(content);
          return verifier.verify(signature) ? Optional.empty() : Optional.of("the signature does not match what it signs");
        } catch (GeneralSecurityException e) {
          return Optional.of("the signature cannot be checked: " + e.getMessage());
        }
      }
    };
  }
}
