package org.medfed.examples.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Starts the demo's coordinator and agents as separate JVMs on this machine's classpath. */
final class Processes implements AutoCloseable {
  private final List<Process> started = new ArrayList<>();
  private final Path logs;

  Processes(Path logs) {
    this.logs = logs;
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  /**
   * Starts {@code mainClass} with the demo's own classpath; its output goes to {@code logs/name.log}.
   * One ND4J thread per process: several hospitals share the demo machine's cores.
   */
  Process java(String name, String mainClass, String... args) {
    List<String> command = new ArrayList<>(List.of(
        ProcessHandle.current().info().command().orElse("java"),
        "-Xmx768m", "-cp", System.getProperty("java.class.path"), mainClass));
    command.addAll(List.of(args));
    try {
      Files.createDirectories(logs);
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(logs.resolve(name + ".log").toFile());
      builder.environment().put("OMP_NUM_THREADS", "1");
      Process process = builder.start();
      started.add(process);
      return process;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
  }

  /** The first line of the process's log that contains {@code marker}, if any yet. */
  Optional<String> logLine(String name, String marker) {
    try {
      return Files.readAllLines(logs.resolve(name + ".log"), StandardCharsets.UTF_8).stream()
          .filter(l -> l.contains(marker)).findFirst();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Waits until the process's log contains {@code marker}, the process dies, or the timeout. */
  void awaitLog(String name, Process process, String marker, long timeoutSeconds) {
    Path log = logs.resolve(name + ".log");
    CompletableFuture<Void> seen = CompletableFuture.runAsync(() -> {
      while (process.isAlive()) {
        try {
          if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(marker)) {
            return;
          }
          process.waitFor(200, TimeUnit.MILLISECONDS);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    });
    try {
      seen.get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(name + " did not start within " + timeoutSeconds + " s; see " + log);
    }
    if (!process.isAlive()) {
      throw new IllegalStateException(name + " exited with code " + process.exitValue() + "; see " + log
          + ":\n" + tail(log));
    }
  }

  static String tail(Path log) {
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(Files.newInputStream(log)))) {
      List<String> lines = reader.lines().toList();
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
    } catch (IOException e) {
      return "(log unreadable: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    started.forEach(Process::destroy);
    for (Process process : started) {
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }
}
