package org.medfed.coordinator.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.medfed.coordinator.cli.MedfedCli;
import org.medfed.trust.pki.Role;
import org.medfed.trust.tls.TlsFiles;

/**
 * {@code medfed serve} in its own JVM with mutual TLS and a fixed port and data folder, so a test
 * can SIGKILL it and start it again on the same state, as an operator's service manager would.
 */
final class CoordinatorProcess implements AutoCloseable {
  final int port;
  final Path dataDir;
  private final Path config;
  private final Path logs;
  private Process process;
  private long startedAtMillis;
  private int starts;

  CoordinatorProcess(Path dir, TestPki pki) throws IOException {
    this(dir, pki, dir.resolve("coordinator-data"), List.of());
  }

  /**
   * A coordinator with its own port, configuration and logs under {@code dir}, keeping its state in
   * {@code dataDir} (which another one may share) with {@code moreConfig} lines added to its
   * coordinator.yaml ({@code store:}, {@code lease_ttl_seconds:}).
   */
  CoordinatorProcess(Path dir, TestPki pki, Path dataDir, List<String> moreConfig) throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    this.dataDir = dataDir;
    logs = dir.resolve("logs");
    Files.createDirectories(logs);
    TlsFiles tls = pki.issue("coordinator", Role.COORDINATOR, List.of("127.0.0.1", "localhost"));
    config = dir.resolve("coordinator.yaml");
    Files.writeString(config, String.join("\n",
        "port: " + port,
        "bind: 127.0.0.1",
        "data_dir: " + dataDir,
        "http: false",
        "tls:",
        "  certificate: " + tls.certificate(),
        "  private_key: " + tls.privateKey(),
        "  ca: " + tls.ca(),
        "  revocation_list: " + pki.ca.crlFile(),
        String.join("\n", moreConfig),
        ""));
  }

  /** Starts the coordinator and waits until it listens; fails with its log if it does not. */
  void start() throws IOException, InterruptedException {
    starts++;
    Path log = logs.resolve("coordinator-" + starts + ".log");
    // C1 only and one GC thread: these coordinators live seconds and share 2 cores with the test's own JVM,
    // where C2 compilation and parallel GC threads are startup cost that is never paid back (CrashResumeTest,
    // which restarts it 23 times, 159 s -> 126 s).
    ProcessBuilder builder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
        "-Xmx768m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
        MedfedCli.class.getName(),
        "serve", "--config", config.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().put("OMP_NUM_THREADS", "1");
    startedAtMillis = System.currentTimeMillis();
    process = builder.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.readString(log, StandardCharsets.UTF_8).contains("medfed coordinator listening on")) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("coordinator start " + starts + " failed; its log:\n" + Files.readString(log));
      }
      Thread.sleep(100);
    }
  }

  /** SIGKILL: no shutdown hook, no flush, no goodbye to the agents. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** SIGTERM, as a service manager stops it for an upgrade: the shutdown hook runs. */
  void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("coordinator did not stop within 30 s of SIGTERM; its log:\n" + log());
    }
  }

  /** Waits for the process to end by itself (it must, before {@code within}), and returns its exit code. */
  int awaitExit(Duration within) throws InterruptedException {
    if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("coordinator still running after " + within + "; its log:\n" + log());
    }
    return process.exitValue();
  }

  /** Waits until its log contains {@code text}; fails with the log after {@code within}. */
  void awaitLog(String text, Duration within) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!log().contains(text)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no '" + text + "' in the coordinator's log within " + within + ":\n" + log());
      }
      Thread.sleep(100);
    }
  }

  long pid() {
    return process.pid();
  }

  /** Sends a signal by name (STOP, CONT), as an operator's {@code kill -STOP} would. */
  void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  long startedAtMillis() {
    return startedAtMillis;
  }

  int starts() {
    return starts;
  }

  String log() {
    try {
      return Files.readString(logs.resolve("coordinator-" + starts + ".log"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    if (process != null) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
