package org.medfed.trust.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Checks an audit log's hash chain and reports the first record where it breaks. */
public final class AuditVerifier {
  private AuditVerifier() {}

  /** Where a chain broke: the 1-based line, the record's claimed sequence number, and why. */
  public record Broken(int line, long seq, String reason) {
    @Override
    public String toString() {
      return "line " + line + " (record " + seq + "): " + reason;
    }
  }

  /** @param records intact records before the break (all of them when intact) */
  public record Result(long records, String lastHash, Optional<Broken> broken) {
    public boolean intact() {
      return broken.isEmpty();
    }

    /** One line for the verify commands. */
    public String describe(Path file) {
      return intact() ? file + ": intact, " + records + " records, last hash " + lastHash
          : file + ": BROKEN at " + broken.get() + "; the " + records + " records before it are intact";
    }
  }

  public static Result verify(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    String previous = AuditLog.GENESIS;
    long expected = 1;
    for (int i = 0; i < lines.size(); i++) {
      int line = i + 1;
      String text = lines.get(i);
      JsonNode node;
      try {
        node = AuditLog.JSON.readTree(text);
      } catch (JsonProcessingException e) {
        return broken(expected - 1, previous, line, expected, "not a JSON record (" + e.getOriginalMessage() + ")");
      }
      if (!(node instanceof ObjectNode record) || !record.has("seq") || !record.has("hash") || !record.has("prev")) {
        return broken(expected - 1, previous, line, expected, "not an audit record (seq, prev and hash are required)");
      }
      long seq = record.get("seq").asLong();
      if (seq != expected) {
        return broken(expected - 1, previous, line, seq, "sequence number " + seq + " where " + expected
            + " was expected: a record before it was deleted or records were reordered");
      }
      if (!record.get("prev").asText().equals(previous)) {
        return broken(expected - 1, previous, line, seq, "it does not continue the chain (prev does not match the hash"
            + " of the record before it): a record was removed, inserted or reordered here");
      }
      String claimed = record.get("hash").asText();
      ObjectNode body = record.deepCopy();
      body.remove("hash");
      if (!AuditLog.hash(body).equals(claimed)) {
        return broken(expected - 1, previous, line, seq, "its content does not match its hash: the record was edited");
      }
      previous = claimed;
      expected++;
    }
    return new Result(expected - 1, previous, Optional.empty());
  }

  private static Result broken(long intact, String lastHash, int line, long seq, String reason) {
    return new Result(intact, lastHash, Optional.of(new Broken(line, seq, reason)));
  }
}
