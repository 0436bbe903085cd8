package org.medfed.secagg.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.medfed.secagg.crypto.MaskExpander;
import org.medfed.secagg.quant.Quantizer;

/**
 * Brings the protocol's code paths to compiled speed before the first real round. Cold, a client's
 * stages (X25519, HKDF, AES-GCM, Shamir, mask expansion) run 3 to 10 times slower than after the
 * JIT has compiled them, and a round's secure-aggregation overhead is mostly that: a long-running
 * agent or coordinator would reach steady state after a few dozen rounds anyway.
 */
public final class WarmUp {
  private static final AtomicBoolean STARTED = new AtomicBoolean();

  private WarmUp() {}

  /**
   * Starts the warm-up once per JVM on a low-priority daemon thread; later calls do nothing.
   *
   * @param first warm-ups of what the protocol calls out to (the certificate signatures), run first
   */
  public static void startInBackground(Runnable... first) {
    if (STARTED.compareAndSet(false, true)) {
      List<Runnable> steps = List.of(first);
      Thread thread = new Thread(() -> {
        steps.forEach(Runnable::run);
        run();
      }, "medfed-secagg-warm-up");
      thread.setDaemon(true);
      thread.setPriority(Thread.MIN_PRIORITY);
      thread.start();
    }
  }

  /** Runs the mask loop and a few hundred small in-memory protocol instances; one to two seconds of one core. */
  public static void run() {
    MaskExpander.warmUp();
    // Quantizing runs once per round, after training, on the critical path: compile it now.
    float[] values = new float[1 << 16];
    int[] quantized = new int[values.length];
    SplittableRandom dither = new SplittableRandom(1);
    for (int pass = 0; pass < 30; pass++) {
      Quantizer.forParticipants(1.0, 10).quantize(values, quantized, 0, dither);
    }
    SecureRandom random = new SecureRandom();
    List<Integer> ids = List.of(1, 2, 3, 4);
    for (int instance = 0; instance < 100; instance++) {
      SecAggConfig config = new SecAggConfig(("warm-up/" + instance).getBytes(StandardCharsets.UTF_8),
          MaskingGraph.complete(ids), 3, 64);
      SecAggServer server = new SecAggServer(config);
      Map<Integer, SecAggClient> clients = new TreeMap<>();
      ids.forEach(id -> clients.put(id, new SecAggClient(config, id, random, new StandIn(id))));
      Map<Integer, Messages.KeyDirectory> directories = server.collectKeys(
          clients.values().stream().map(SecAggClient::advertiseKeys).toList());
      Map<Integer, List<Messages.EncryptedShare>> inbox = server.routeShares(
          clients.entrySet().stream().map(c -> c.getValue().shareKeys(directories.get(c.getKey()))).toList());
      // Client 4 drops out after sharing keys, so the dropout recovery path warms up too.
      List<Integer> survivors = ids.subList(0, 3);
      List<Messages.MaskedInput> masked = new ArrayList<>();
      survivors.forEach(id -> masked.add(clients.get(id).maskedInput(inbox.get(id), new int[64])));
      Map<Integer, Messages.SurvivorSet> shown = server.collectMaskedInputs(masked);
      Map<Integer, Messages.UnmaskRequest> requests = server.collectSignatures(
          survivors.stream().map(id -> clients.get(id).consistencyCheck(shown.get(id))).toList());
      server.unmask(survivors.stream().map(id -> clients.get(id).unmask(requests.get(id))).toList());
    }
  }

  /**
   * The warm-up's identities: a "signature" is SHA-256 over the signer's id and the content, which
   * anyone could make. Its instances sum zeros and are thrown away; real rounds pass signatures
   * backed by certificates. Real ones would add about a second of CPU per start (1200 Ed25519
   * operations) and warm up nothing a real round runs.
   */
  private static final class StandIn implements Signatures {
    private final int id;

    StandIn(int id) {
      this.id = id;
    }

    @Override
    public byte[] sign(byte[] content) {
      return digest(id, content);
    }

    @Override
    public Optional<String> problem(int signer, byte[] content, byte[] signature) {
      return MessageDigest.isEqual(digest(signer, content), signature) ? Optional.empty()
          : Optional.of("not node " + signer + "'s stand-in signature");
    }

    private static byte[] digest(int signer, byte[] content) {
      MessageDigest sha = Session.sha256();
      sha.update(ByteBuffer.allocate(4).putInt(signer).array());
      sha.update(content);
      return sha.digest();
    }
  }
}
