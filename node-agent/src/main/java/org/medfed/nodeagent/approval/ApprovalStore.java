package org.medfed.nodeagent.approval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * The hospital operator's decisions on job digests, and the jobs waiting for one, in
 * {@code approvals.json} under the agent's state folder. The running agent and the operator's
 * commands share the file: every change holds a file lock and replaces the file atomically.
 */
public final class ApprovalStore {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** What the operator decided about a digest. */
  public enum Verdict { APPROVED, REJECTED }

  /** A decision: what, when (ISO-8601), by whom (an operator name or "auto_approve_jobs"), and why. */
  public record Decision(Verdict verdict, String at, String by, String reason) {}

  /** A job that asked to run and awaits the operator. */
  public record Pending(String digest, String jobId, String jobName, String dataset, String submittedBy, int rounds,
      String modelSummary, String plan, String privacy, String receivedAt) {}

  /** The whole file. */
  public record State(Map<String, Decision> decisions, Map<String, Pending> pending) {
    public State {
      decisions = new TreeMap<>(decisions == null ? Map.of() : decisions);
      pending = new TreeMap<>(pending == null ? Map.of() : pending);
    }
  }

  private final Path file;
  private final Path lock;

  public ApprovalStore(Path stateDir) {
    this.file = stateDir.resolve("approvals.json");
    this.lock = stateDir.resolve("approvals.lock");
  }

  public Path file() {
    return file;
  }

  public State read() {
    if (!Files.exists(file)) {
      return new State(Map.of(), Map.of());
    }
    try {
      return JSON.readValue(file.toFile(), State.class);
    } catch (IOException e) {
      throw new IllegalStateException(file + " cannot be read (" + e.getMessage().lines().findFirst().orElse("")
          + "); restore it from a backup or delete it to start with no approvals", e);
    }
  }

  public Optional<Decision> decision(String digest) {
    return Optional.ofNullable(read().decisions().get(digest));
  }

  /** Records a job awaiting approval unless its digest is already decided or pending. */
  public void addPending(Pending pending) {
    update(state -> {
      if (!state.decisions().containsKey(pending.digest())) {
        state.pending().putIfAbsent(pending.digest(), pending);
      }
      return state;
    });
  }

  /** Decides a digest given in full or as a unique prefix; returns the full digest. */
  public String decide(String digestOrPrefix, Verdict verdict, String by, String reason) {
    String[] full = new String[1];
    update(state -> {
      full[0] = resolve(state, digestOrPrefix);
      state.decisions().put(full[0], new Decision(verdict, Instant.now().toString(), by, reason));
      state.pending().remove(full[0]);
      return state;
    });
    return full[0];
  }

  /** The full digest a prefix names among pending and decided digests. */
  public String resolve(String digestOrPrefix) {
    return resolve(read(), digestOrPrefix);
  }

  private static String resolve(State state, String prefix) {
    if (prefix.length() == 64) {
      return prefix;
    }
    List<String> matches = Stream.concat(state.pending().keySet().stream(),
        state.decisions().keySet().stream()).distinct().filter(d -> d.startsWith(prefix)).toList();
    if (matches.size() != 1) {
      throw new IllegalArgumentException(matches.isEmpty()
          ? "no pending or decided job digest starts with '" + prefix + "'; `medfed-agent jobs` lists them"
          : "'" + prefix + "' matches " + matches.size() + " digests; give more digits");
    }
    return matches.get(0);
  }

  private void update(UnaryOperator<State> change) {
    try {
      Files.createDirectories(file.getParent());
      try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock held = channel.lock()) {
        State next = change.apply(read());
        Path temp = file.resolveSibling("approvals.json.tmp");
        JSON.writeValue(temp.toFile(), next);
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot update " + file + ": " + e.getMessage(), e);
    }
  }
}
