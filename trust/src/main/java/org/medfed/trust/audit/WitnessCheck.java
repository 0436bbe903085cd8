package org.medfed.trust.audit;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks a coordinator's audit log against the heads hospitals witnessed. Every task carries the
 * coordinator's chain head; each agent records the heads it sees in its own hash-chained log as
 * {@value #RECORD_TYPE}. A chain verifies on its own even after records are cut from its end or it is
 * rewritten from some record on, but not against a head a hospital recorded before: that record is
 * then missing, or its hash differs.
 *
 * <p>This class owns the witness record's format: agents write it with {@link #details} and read it
 * back with {@link #witnessedHead}.
 */
public final class WitnessCheck {
  /** The agent's audit record type for a coordinator head seen on a task. */
  public static final String RECORD_TYPE = "COORDINATOR_HEAD_WITNESSED";

  private WitnessCheck() {}

  /** The details of a witness record: the head, and the task that carried it. */
  public static Map<String, Object> details(AuditLog.Head head, String jobId, int round) {
    return Map.of("seq", head.seq(), "hash", head.hash(), "job", jobId, "round", round);
  }

  /** The head a witness record holds; empty for any other record. */
  public static Optional<AuditLog.Head> witnessedHead(AuditLog.Entry entry) {
    if (!entry.type().equals(RECORD_TYPE)) {
      return Optional.empty();
    }
    JsonNode details = json(entry);
    return Optional.of(new AuditLog.Head(details.path("seq").asLong(), details.path("hash").asText()));
  }

  /**
   * @param matched witnessed heads the coordinator log holds unchanged
   * @param findings one line per witnessed head it lacks, and per witness log that is itself broken;
   *     empty when every witness agrees with the log
   */
  public record Report(int matched, List<String> findings) {
    public Report {
      findings = List.copyOf(findings);
    }

    public boolean agrees() {
      return findings.isEmpty();
    }
  }

  /**
   * Compares the coordinator log's intact records with the witness records of each hospital log.
   * A witness log whose own chain is broken is reported and not used: its heads are no evidence.
   */
  public static Report check(Path coordinatorLog, List<Path> witnessLogs) throws IOException {
    List<AuditLog.Entry> chain = intactRecords(coordinatorLog);
    int matched = 0;
    List<String> findings = new ArrayList<>();
    for (Path witnessLog : witnessLogs) {
      AuditVerifier.Result own = AuditVerifier.verify(witnessLog);
      if (!own.intact()) {
        findings.add("witness log " + own.describe(witnessLog) + ": its heads are not evidence until it is explained");
        continue;
      }
      List<AuditLog.Entry> witnessed = AuditLog.read(witnessLog);
      String hospital = hospital(witnessed, witnessLog);
      for (AuditLog.Entry entry : witnessed) {
        Optional<AuditLog.Head> head = witnessedHead(entry);
        if (head.isEmpty()) {
          continue;
        }
        long seq = head.get().seq();
        String hash = head.get().hash();
        if (seq > chain.size()) {
          findings.add("the log ends at record " + chain.size() + " but hospital " + hospital + "'s log witnessed record "
              + seq + " (hash " + hash + ") at " + entry.time() + ": records were cut from the end");
        } else if (seq >= 1 && !chain.get((int) seq - 1).hash().equals(hash)) {
          findings.add("record " + seq + " differs from what hospital " + hospital + " witnessed at " + entry.time()
              + " (hash " + hash + "): the log was rewritten from there on");
        } else {
          matched++;
        }
      }
    }
    return new Report(matched, findings);
  }

  /** Only the part of a broken log that verifies can be compared. */
  private static List<AuditLog.Entry> intactRecords(Path log) throws IOException {
    long intact = AuditVerifier.verify(log).records();
    List<AuditLog.Entry> entries = AuditLog.read(log);
    return List.copyOf(entries.subList(0, (int) Math.min(intact, entries.size())));
  }

  /** The agent names itself in AGENT_STARTED; a log without one is named by its path. */
  private static String hospital(List<AuditLog.Entry> entries, Path file) {
    return entries.stream().filter(e -> e.type().equals("AGENT_STARTED")).map(e -> json(e).path("node").asText())
        .filter(node -> !node.isEmpty()).map(node -> "'" + node + "'").findFirst().orElse("'" + file + "'");
  }

  private static JsonNode json(AuditLog.Entry entry) {
    try {
      return AuditLog.JSON.readTree(entry.detailsJson());
    } catch (IOException e) {
      throw new IllegalStateException("audit record " + entry.seq() + " holds details that are not JSON", e);
    }
  }
}
