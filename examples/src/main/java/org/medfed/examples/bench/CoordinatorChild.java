package org.medfed.examples.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.medfed.coordinator.cli.MedfedCli;

/** `medfed serve` in its own JVM, with a GC log to read its heap from. */
final class CoordinatorChild implements AutoCloseable {
  private static final Pattern AFTER_GC = Pattern.compile("->(\\d+)M\\(");

  private final Process process;
  private final Path gcLog;
  private int mark;

  CoordinatorChild(Path work, Path kits, int port, String heap) throws IOException, InterruptedException {
    this(work, kits, port, heap, Optional.empty());
  }

  /** @param chunkKib coordinator.yaml's {@code chunk_size_kib}, when not the default */
  CoordinatorChild(Path work, Path kits, int port, String heap, Optional<Integer> chunkKib)
      throws IOException, InterruptedException {
    Path kit = kits.resolve("coordinator");
    Path config = work.resolve("coordinator.yaml");
    Files.writeString(config, String.join("\n", "port: " + port, "bind: 127.0.0.1",
        "data_dir: " + work.resolve("coordinator-data"), "http: false", "tls:",
        "  certificate: " + kit.resolve("coordinator.crt"), "  private_key: " + kit.resolve("coordinator.key"),
        "  ca: " + kit.resolve("ca.crt"), "  revocation_list: " + kit.resolve("revoked.crl"),
        // A bench's coordinator has no stand-by. Under a thousand simulated hospitals on two cores, or a
        // heap dump taken to see what the heap holds, a renewal can starve past the default 10 s lease:
        // the coordinator would then stop driving the job it measures, as if a stand-by had taken over.
        "lease_ttl_seconds: 120", chunkKib.map(kib -> "chunk_size_kib: " + kib).orElse(""), ""));
    gcLog = work.resolve("coordinator-gc.log");
    Path log = work.resolve("coordinator.log");
    ProcessBuilder builder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
        "-Xmx" + heap, "-Xlog:gc:file=" + gcLog, "-cp", System.getProperty("java.class.path"),
        MedfedCli.class.getName(), "serve", "--config", config.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().put("OMP_NUM_THREADS", "1");
    process = builder.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!Files.readString(log, StandardCharsets.UTF_8).contains("medfed coordinator listening on")) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("the coordinator did not start; its log:\n" + Files.readString(log));
      }
      Thread.sleep(200);
    }
  }

  /** Runs a full GC in the coordinator and returns its heap after it, in MB. */
  long heapAfterGc() throws IOException, InterruptedException {
    int before = lines().size();
    Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(process.pid()), "GC.run").redirectErrorStream(true).start();
    jcmd.getInputStream().readAllBytes();
    jcmd.waitFor();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      List<String> lines = lines();
      for (int i = lines.size() - 1; i >= before; i--) {
        Matcher m = AFTER_GC.matcher(lines.get(i));
        if (lines.get(i).contains("Pause Full") && m.find()) {
          return Long.parseLong(m.group(1));
        }
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("no full GC in " + gcLog + " after jcmd GC.run");
  }

  void markGcLog() throws IOException {
    mark = lines().size();
  }

  /** The largest heap left after any collection since {@link #markGcLog}: the peak live set, in MB. */
  long peakHeapSinceMark() throws IOException {
    long peak = 0;
    List<String> lines = lines();
    for (String line : lines.subList(Math.min(mark, lines.size()), lines.size())) {
      Matcher m = AFTER_GC.matcher(line);
      if (m.find()) {
        peak = Math.max(peak, Long.parseLong(m.group(1)));
      }
    }
    return peak;
  }

  double cpuSeconds() {
    return process.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
  }

  private List<String> lines() throws IOException {
    return Files.exists(gcLog) ? Files.readAllLines(gcLog, StandardCharsets.UTF_8) : List.of();
  }

  @Override
  public void close() {
    process.destroy();
    try {
      process.waitFor(20, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process.destroyForcibly();
  }
}
