package org.medfed.nodeagent.session;

import com.google.protobuf.ByteString;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.medfed.proto.v1.SecAggKeyDirectory;
import org.medfed.proto.v1.SecAggKeys;
import org.medfed.proto.v1.SecAggPublicKeys;
import org.medfed.proto.v1.SecAggSetup;
import org.medfed.secagg.SecAggException;
import org.medfed.secagg.protocol.MaskingGraph;
import org.medfed.secagg.protocol.Messages;
import org.medfed.secagg.protocol.Signatures;
import org.medfed.trust.pki.Certified;
import org.medfed.trust.pki.IdentitySignatures;
import org.medfed.trust.pki.Role;
import org.medfed.trust.tls.TlsFiles;
import org.medfed.wire.SecAggInstance;

/**
 * Binds secure-aggregation round keys to the consortium's certificates, the hospital's side: it signs
 * its own keys with its TLS key, and refuses a key directory that lists anyone but its neighbours or
 * in which any neighbour's keys are not signed by that neighbour's own hospital certificate. Without the check a coordinator could hand out keys of its
 * own in a peer's name, collect the shares meant for that peer and unmask one hospital's update.
 * In plaintext development mode (no TLS) there is nothing to sign with and it does neither.
 */
final class SignedRoundKeys {
  private final Optional<TlsFiles.Material> identity;
  private final Optional<Certified> own;
  private final Clock clock;
  /**
   * Certificates key directories carried in full, by their number on this session (protocol 4: 1, 2,
   * ... in the session's order, as the coordinator numbers them); the eldest go first past 4096.
   */
  private final Map<Integer, ByteString> received = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Integer, ByteString> eldest) {
      return size() > 4096;
    }
  };
  private int carried;

  SignedRoundKeys(Optional<TlsFiles.Material> identity, Clock clock) {
    this.identity = identity;
    this.own = identity.map(material -> Certified.trusted(material.certificate()));
    this.clock = clock;
  }

  /** The message that advertises {@code keys}, signed when this agent has a certificate. */
  SecAggKeys message(String taskId, Messages.AdvertiseKeys keys, byte[] context, String nodeId) {
    SecAggKeys.Builder message = SecAggKeys.newBuilder().setTaskId(taskId)
        .setEncryptionKey(ByteString.copyFrom(keys.encryptionKey()))
        .setMaskingKey(ByteString.copyFrom(keys.maskingKey()));
    identity.ifPresent(material -> message.setSignature(ByteString.copyFrom(IdentitySignatures.sign(
        material.privateKey(), keys.signedContent(context, nodeId)))));
    return message.build();
  }

  /**
   * Numbers the certificates a key directory carries in full, 1, 2, ... in the session's order, and
   * keeps them for later directories that name them by number only (protocol 4). Called as each
   * directory arrives, in the session's order (the order in which the coordinator numbers them), so
   * that a directory of another job handled first on another thread still finds them. Nothing is
   * trusted here: a kept certificate is checked like any other when a directory names it.
   */
  void remember(SecAggKeyDirectory directory) {
    synchronized (received) {
      directory.getKeysList().stream().filter(keys -> !keys.getCertificate().isEmpty())
          .forEach(keys -> received.put(++carried, keys.getCertificate()));
    }
  }

  /** The certificate a directory entry carries, or names by its number on this session. */
  private byte[] certificate(SecAggPublicKeys peer) throws IdentitySignatures.Rejected {
    if (!peer.getCertificate().isEmpty()) {
      return peer.getCertificate().toByteArray();
    }
    int number = peer.getCertificateNumber();
    if (number == 0) {
      return new byte[0];  // unsigned: the signature check names it
    }
    synchronized (received) {
      ByteString kept = received.get(number);
      if (kept == null) {
        throw new IdentitySignatures.Rejected("it names certificate number " + number + " of this session, but this"
            + " session carried " + carried + (carried > 4096 ? " (the last 4096 kept)" : "") + "; the coordinator"
            + " must send each certificate in full the first time a session carries it");
      }
      return kept.toByteArray();
    }
  }

  /**
   * The directory as the protocol library reads it, once every entry is shown to be this hospital's
   * own keys or a neighbour's, signed by that neighbour's certificate for this very setup.
   *
   * @throws SecAggException naming the first entry that is not a neighbour's, or whose keys are not
   *     signed by its certificate
   */
  Messages.KeyDirectory verified(SecAggSetup setup, List<SecAggPublicKeys> directory, int self) {
    return round(setup).verified(directory, self);
  }

  /**
   * The masking graph every participant derives from the setup alone: the complete graph, or SecAgg+
   * (Bell et al. 2020) on a Harary graph over the sorted participant ids shuffled with the graph
   * seed.
   */
  static MaskingGraph graph(SecAggSetup setup) {
    List<Integer> ids = setup.getParticipantIdsMap().values().stream().sorted().toList();
    return setup.getNeighbours() == 0 ? MaskingGraph.complete(ids)
        : MaskingGraph.randomRegular(ids, setup.getNeighbours(), setup.getGraphSeed());
  }

  /** This hospital's view of one round: its neighbours' keys and signatures; see {@link Round}. */
  Round round(SecAggSetup setup) {
    return new Round(setup, graph(setup));
  }

  /** As {@link #round(SecAggSetup)}, with the graph the caller already derived from {@code setup}. */
  Round round(SecAggSetup setup, MaskingGraph graph) {
    return new Round(setup, graph);
  }

  /**
   * One round at this hospital: which keys it accepts and which survivor-set signatures count.
   *
   * <p>Keys: the coordinator sends each hospital its neighbourhood only, and the hospital refuses an
   * entry that is not itself or one of its neighbours in the graph it derives from the setup,
   * before checking anything else; each neighbour's keys must then be signed, over the instance
   * context ({@link SecAggInstance}: the setup's context and the whole setup), by a certificate the
   * consortium CA issued to a hospital of the name the setup gives that id, valid now. So a hospital
   * checks k certificates and signatures per round under SecAgg+, not n, and a neighbour's keys
   * verify only if that neighbour was shown the very same setup.
   *
   * <p>The consistency check: this hospital signs the survivor set with its certificate key, and a
   * peer's signature counts only when it verifies under the certificate that signed that peer's
   * round keys in the key directory (its validity is checked again against the clock). Only
   * neighbours have certified keys here, so only neighbours' signatures can count. In plaintext
   * development mode there are no certificates: it signs nothing and cannot tell a peer's signature
   * from the coordinator's, as it cannot for the round keys.
   */
  final class Round implements Signatures {
    private final MaskingGraph graph;
    private final byte[] instance;
    private final Map<Integer, String> names;
    private final Map<Integer, Certified> certificates = new ConcurrentHashMap<>();
    private final AtomicInteger verifications = new AtomicInteger();

    private Round(SecAggSetup setup, MaskingGraph graph) {
      this.graph = graph;
      this.instance = SecAggInstance.context(setup);
      this.names = setup.getParticipantIdsMap().entrySet().stream()
          .collect(Collectors.toMap(Map.Entry::getValue, Map.Entry::getKey));
    }

    /** What this round's signatures cover, and the protocol's instance context. */
    byte[] instance() {
      return instance.clone();
    }

    /** ECDSA verifications done so far (round keys and survivor-set signatures): at most about 2k + 2. */
    int verifications() {
      return verifications.get();
    }

    /**
     * The directory as the protocol library reads it, once every entry is a neighbour's certified
     * keys (protocol 4: never this hospital's own, which it holds); remembers each neighbour's
     * certificate for its later survivor-set signature.
     */
    Messages.KeyDirectory verified(List<SecAggPublicKeys> directory, int self) {
      Set<Integer> neighbourhood = graph.contains(self) ? graph.neighbours(self) : Set.of();
      for (SecAggPublicKeys peer : directory) {
        if (peer.getId() == self) {
          throw new SecAggException("refusing the key directory: it lists participant " + self + ", this hospital"
              + " itself; since protocol 4 a directory carries only the neighbours' keys");
        }
        // Before any signature is checked: a directory larger than a neighbourhood costs nothing.
        if (!neighbourhood.contains(peer.getId())) {
          throw new SecAggException("refusing the key directory: it lists participant " + peer.getId()
              + (names.containsKey(peer.getId()) ? ", who is not a neighbour of participant " + self + " in " + graph
                  + "; the coordinator sent another neighbourhood" : ", who is not in this round's setup"));
        }
      }
      for (SecAggPublicKeys peer : directory) {
        if (identity.isEmpty()) {
          continue;
        }
        String name = names.get(peer.getId());
        try {
          verifications.incrementAndGet();
          certificates.put(peer.getId(), IdentitySignatures.verify(certificate(peer),
              advertised(peer).signedContent(instance, name), peer.getSignature().toByteArray(), identity.get().ca(),
              name, Role.HOSPITAL, clock.instant()));
        } catch (IdentitySignatures.Rejected e) {
          throw new SecAggException("refusing the key directory: the keys of participant " + peer.getId() + " ('"
              + name + "') are not that hospital's: " + e.getMessage() + "; the coordinator, or someone between it"
              + " and that hospital, altered them, or showed that hospital another setup of this round");
        }
      }
      // Its own certificate from its own files, not as the coordinator echoed it.
      own.ifPresent(certified -> certificates.put(self, certified));
      return new Messages.KeyDirectory(directory.stream().map(SignedRoundKeys::advertised).toList());
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
      Certified certificate = certificates.get(signer);
      if (name == null || certificate == null) {
        return Optional.of("node " + signer + " has no certified round keys in this round's key directory");
      }
      try {
        verifications.incrementAndGet();
        certificate.verify(content, signature, clock.instant());
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
}
