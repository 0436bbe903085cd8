package org.medfed.secagg.protocol;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.medfed.secagg.crypto.MaskExpander;

/**
 * Benchmark harness (not a unit test; run by bench/secagg-bench.sh): mask-expansion throughput as a
 * ratio to {@code openssl speed -evp aes-256-ctr} measured in the same run; the server's sum of
 * masked vectors against a plain float sum; and per-client and server CPU time of whole protocol
 * instances for several n, complete graph vs SecAgg+.
 */
public final class SecAggBench {
  private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

  public static void main(String[] args) {
    double opensslBytesPerSecond = args.length > 0 ? Double.parseDouble(args[0]) : Double.NaN;
    int vector = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    maskThroughput(opensslBytesPerSecond);
    aggregationAgainstFloatSum();
    protocolCpu(vector);
  }

  static void maskThroughput(double opensslBytesPerSecond) {
    int[] target = new int[1 << 20];
    byte[] seed = new byte[32];
    new SecureRandom().nextBytes(seed);
    // On one core the JIT compiles in competition with the benchmark: warm up by time, not count.
    long warmUntil = System.nanoTime() + 8_000_000_000L;
    while (System.nanoTime() < warmUntil) {
      MaskExpander.apply(target, seed, 1);
    }
    int iterations = 0;
    long start = System.nanoTime();
    while (System.nanoTime() - start < 5_000_000_000L) {
      MaskExpander.apply(target, seed, 1);
      iterations++;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    double bytesPerSecond = iterations * 4.0 * target.length / seconds;
    System.out.printf(Locale.ROOT, "mask expansion (AES-256-CTR keystream added into a 1M-int vector): %.0f MB/s, "
        + "%.2f ms per 1M-parameter mask%n", bytesPerSecond / 1e6, seconds * 1000 / iterations);
    if (!Double.isNaN(opensslBytesPerSecond)) {
      System.out.printf(Locale.ROOT, "openssl speed -evp aes-256-ctr (same core, same run): %.0f MB/s%n",
          opensslBytesPerSecond / 1e6);
      System.out.printf(Locale.ROOT, "ratio medfed / openssl: %.2f (target >= 0.5)%n", bytesPerSecond / opensslBytesPerSecond);
    }
  }

  /**
   * The server's work per arriving update, 1M values: decoding the masked vector's little-endian
   * words and adding them into the sum (mod 2^32, {@link SecAggServer#addMaskedInput}), against
   * decoding float32 values and adding them into a float sum, as a plaintext round does. Both warm
   * up by time; the ratio is of the medians over instances of 10 updates each.
   */
  static void aggregationAgainstFloatSum() {
    int vector = 1 << 20;
    int n = 10;
    List<Integer> ids = IntStream.rangeClosed(1, n).boxed().toList();
    SecAggConfig config = new SecAggConfig("bench".getBytes(StandardCharsets.UTF_8), MaskingGraph.complete(ids),
        SecAggConfig.majority(n), vector);
    LocalSignatures identities = new LocalSignatures(config.graph().participants());
    SecureRandom random = new SecureRandom();
    byte[] floats = new byte[vector * Float.BYTES];
    random.nextBytes(floats);
    float[] plainSum = new float[vector];
    float[] decoded = new float[vector];
    List<Double> secureMs = new ArrayList<>();
    List<Double> plainMs = new ArrayList<>();
    long until = System.nanoTime() + 20_000_000_000L;  // the first half of it is warm-up
    long measureFrom = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < until) {
      Map<Integer, SecAggClient> clients = new TreeMap<>();
      for (int id : ids) {
        clients.put(id, new SecAggClient(config, id, random, identities.of(id)));
      }
      SecAggServer server = new SecAggServer(config);
      Map<Integer, Messages.KeyDirectory> directories = server.collectKeys(clients.values().stream()
          .map(SecAggClient::advertiseKeys).toList());
      var inbox = server.routeShares(clients.entrySet().stream()
          .map(e -> e.getValue().shareKeys(directories.get(e.getKey()))).toList());
      int[] input = new int[vector];
      List<byte[]> wire = new ArrayList<>();
      clients.forEach((id, c) -> wire.add(c.maskedInput(inbox.get(id), input).toLittleEndian()));

      long t0 = CPU.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        server.addMaskedInput(Messages.MaskedInput.fromLittleEndian(ids.get(i), ByteBuffer.wrap(wire.get(i))));
      }
      long t1 = CPU.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        ByteBuffer.wrap(floats).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(decoded);
        for (int j = 0; j < vector; j++) {
          plainSum[j] += decoded[j];
        }
      }
      long t2 = CPU.getCurrentThreadCpuTime();
      if (System.nanoTime() > measureFrom) {
        secureMs.add((t1 - t0) / 1e6 / n);
        plainMs.add((t2 - t1) / 1e6 / n);
      }
    }
    double secure = median(secureMs);
    double plain = median(plainMs);
    System.out.printf(Locale.ROOT, "aggregation per update of 1M values (decode and add; median of %d instances):"
        + " secure sum mod 2^32 %.2f ms, plain float sum %.2f ms, ratio %.2f (sum checksum %.1f)%n", secureMs.size(),
        secure, plain, secure / plain, plainSum[vector / 2]);
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() / 2);
  }

  static void protocolCpu(int vector) {
    System.out.printf(Locale.ROOT, "%nCPU time of one secure-aggregation instance, vector of %d values, no dropouts, "
        + "one thread%n", vector);
    System.out.printf(Locale.ROOT, "%-5s %-22s %4s %16s %16s %14s%n", "n", "graph", "t", "client mean ms",
        "client max ms", "server ms");
    for (int n : new int[] {10, 50, 100, 200}) {
      List<Integer> ids = IntStream.rangeClosed(1, n).boxed().toList();
      run(n, "complete", () -> MaskingGraph.complete(ids), SecAggConfig.majority(n), vector);
      if (n >= 50) {
        // SecAgg+: k = O(log n) neighbours; t = majority of a neighbourhood.
        int k = 2 * (int) Math.ceil(2.5 * Math.log(n) / Math.log(2) / 2);
        run(n, "secagg+ k=" + k, () -> MaskingGraph.randomRegular(ids, k, 7), (k + 1) / 2 + 1, vector);
      }
    }
  }

  private static void run(int n, String name, Supplier<MaskingGraph> graph, int threshold, int vector) {
    SecAggConfig config = new SecAggConfig("bench".getBytes(StandardCharsets.UTF_8), graph.get(), threshold, vector);
    SecureRandom random = new SecureRandom();
    Map<Integer, Long> clientNanos = new TreeMap<>();
    long[] serverNanos = {0};
    Map<Integer, SecAggClient> clients = new TreeMap<>();
    LocalSignatures identities = new LocalSignatures(config.graph().participants());
    for (int id : config.graph().participants()) {
      long t0 = CPU.getCurrentThreadCpuTime();
      clients.put(id, new SecAggClient(config, id, random, identities.of(id)));
      clientNanos.merge(id, CPU.getCurrentThreadCpuTime() - t0, Long::sum);
    }
    SecAggServer server = new SecAggServer(config);
    List<Messages.AdvertiseKeys> keys = new ArrayList<>();
    clients.forEach((id, c) -> keys.add(timed(clientNanos, id, c::advertiseKeys)));
    Map<Integer, Messages.KeyDirectory> directories = timedServer(serverNanos, () -> server.collectKeys(keys));
    List<Messages.ShareKeys> shares = new ArrayList<>();
    clients.forEach((id, c) -> shares.add(timed(clientNanos, id, () -> c.shareKeys(directories.get(id)))));
    var inbox = timedServer(serverNanos, () -> server.routeShares(shares));
    List<Messages.MaskedInput> masked = new ArrayList<>();
    int[] input = new int[vector];
    clients.forEach((id, c) -> masked.add(timed(clientNanos, id, () -> c.maskedInput(inbox.get(id), input))));
    var shown = timedServer(serverNanos, () -> server.collectMaskedInputs(masked));
    List<Messages.SurvivorSignature> signatures = new ArrayList<>();
    clients.forEach((id, c) -> signatures.add(timed(clientNanos, id, () -> c.consistencyCheck(shown.get(id)))));
    var requests = timedServer(serverNanos, () -> server.collectSignatures(signatures));
    List<Messages.UnmaskResponse> responses = new ArrayList<>();
    clients.forEach((id, c) -> responses.add(timed(clientNanos, id, () -> c.unmask(requests.get(id)))));
    timedServer(serverNanos, () -> server.unmask(responses));
    double mean = clientNanos.values().stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
    double max = clientNanos.values().stream().mapToLong(Long::longValue).max().orElse(0) / 1e6;
    System.out.printf(Locale.ROOT, "%-5d %-22s %4d %16.1f %16.1f %14.1f%n", n, name, threshold, mean, max,
        serverNanos[0] / 1e6);
  }

  private static <T> T timed(Map<Integer, Long> nanos, int id, Supplier<T> step) {
    long t0 = CPU.getCurrentThreadCpuTime();
    T result = step.get();
    nanos.merge(id, CPU.getCurrentThreadCpuTime() - t0, Long::sum);
    return result;
  }

  private static <T> T timedServer(long[] nanos, Supplier<T> step) {
    long t0 = CPU.getCurrentThreadCpuTime();
    T result = step.get();
    nanos[0] += CPU.getCurrentThreadCpuTime() - t0;
    return result;
  }
}
