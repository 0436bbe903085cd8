package org.medfed.coordinator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.medfed.trust.audit.AuditLog;
import org.medfed.wire.Digests;

/**
 * Checks a model card, and the model file it describes, against the coordinator's audit log: the
 * log must hold the MODEL_CARD_ISSUED record carrying the card's SHA-256 and the model's, the audit
 * head the card names, and the checkpoint digest of every round the card lists. So a changed card
 * (a metric made better, a hospital left out), a changed model, or a log cut back past the card's
 * head is reported. The caller verifies the log's own chain first.
 */
final class ModelCardCheck {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelCardCheck() {}

  /** @return what does not match; empty when card, model and log agree */
  static List<String> problems(Path log, Path card, Optional<Path> model) throws IOException {
    List<AuditLog.Entry> entries = AuditLog.read(log);
    byte[] cardBytes = Files.readAllBytes(card);
    String cardSha = Digests.hex(Digests.sha256(cardBytes));
    JsonNode content;
    try {
      content = JSON.readTree(cardBytes);
    } catch (IOException e) {
      return List.of(card + " is not a model card (not JSON: " + e.getMessage() + ")");
    }
    List<String> problems = new ArrayList<>();
    Optional<JsonNode> issued = entries.stream().filter(e -> e.type().equals("MODEL_CARD_ISSUED")).map(ModelCardCheck::details)
        .filter(d -> d.path("card_sha256").asText().equals(cardSha)).findFirst();
    if (issued.isEmpty()) {
      problems.add(card + " (SHA-256 " + cardSha + ") is not a card this coordinator issued, or it was changed"
          + " since: no MODEL_CARD_ISSUED record in " + log + " carries its digest");
    }
    JsonNode head = content.path("audit_head");
    long seq = head.path("seq").asLong();
    if (seq > 0 && (seq > entries.size() || !entries.get((int) seq - 1).hash().equals(head.path("hash").asText()))) {
      problems.add("the card's audit head (record " + seq + ", hash " + head.path("hash").asText() + ") is not in "
          + log + ": the log was cut back, replaced or edited after the card was issued");
    }
    String jobId = content.path("job").path("id").asText();
    for (JsonNode round : content.path("rounds")) {
      int number = round.path("round").asInt();
      String digest = round.path("checkpoint_sha256").asText();
      boolean recorded = entries.stream().filter(e -> e.type().equals("ROUND_COMPLETED")).map(ModelCardCheck::details)
          .anyMatch(d -> d.path("job").asText().equals(jobId) && d.path("round").asInt() == number
              && (d.path("checkpoint_sha256").asText().equals(digest)
                  || d.path("aggregate_model_sha256").asText().equals(digest)));
      if (!recorded) {
        problems.add("round " + number + " of job " + jobId + " with checkpoint " + digest + " is not in " + log);
      }
    }
    if (model.isPresent()) {
      String modelSha = Digests.hex(Digests.sha256(Files.readAllBytes(model.get())));
      String carded = content.path("model").path("file_sha256").asText();
      if (!modelSha.equals(carded) || issued.isPresent() && !issued.get().path("model_sha256").asText().equals(modelSha)) {
        problems.add(model.get() + " (SHA-256 " + modelSha + ") is not the model the card describes (" + carded
            + "): the model file was changed or replaced");
      }
    }
    return problems;
  }

  private static JsonNode details(AuditLog.Entry entry) {
    try {
      return JSON.readTree(entry.detailsJson());
    } catch (IOException e) {
      throw new IllegalStateException("audit record " + entry.seq() + " holds details that are not JSON", e);
    }
  }
}
