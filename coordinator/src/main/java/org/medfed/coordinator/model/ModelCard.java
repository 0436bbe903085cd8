package org.medfed.coordinator.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.coordinator.job.RoundRecord;
import org.medfed.trust.audit.AuditLog;

/**
 * The provenance record that goes with every downloaded model (the documentation the EU's rules for
 * high-risk medical AI ask of data, training and evaluation): the job as approved, which hospitals
 * took part in which rounds (names only), each round's global and per-hospital metrics, the
 * strategy, secure-aggregation and privacy settings with the privacy each hospital reported spent,
 * the SHA-256 of the model file and of the round's checkpoint, and the head of the coordinator's
 * audit chain when the card was issued. The JSON is canonical (sorted keys), so its SHA-256, which
 * the audit log records, identifies it.
 */
public final class ModelCard {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ObjectNode card;

  private ModelCard(ObjectNode card) {
    this.card = card;
  }

  /**
   * @param round the round whose weights the model file holds
   * @param modelSha256 the SHA-256 of the model file the card describes
   * @param head the audit chain's head before the card's own MODEL_CARD_ISSUED record
   */
  public static ModelCard of(Job job, int round, String modelSha256, AuditLog.Head head, Instant issuedAt) {
    ObjectNode card = JSON.createObjectNode();
    card.put("format_version", 1);
    card.put("issued_at", issuedAt.toString());
    ObjectNode about = card.putObject("job");
    about.put("id", job.id());
    about.put("name", job.spec().name());
    about.put("approved_digest", job.digest());
    about.put("submitted_by", job.submittedBy());
    about.put("status", job.status().name());
    try {
      about.set("spec", JSON.readTree(JobSpecParser.toJson(job.spec())));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the job's own spec JSON does not parse", e);
    }
    RoundRecord held = job.rounds().stream().filter(r -> r.round() == round).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("job '" + job.id() + "' has no completed round " + round));
    ObjectNode model = card.putObject("model");
    model.put("file_sha256", modelSha256);
    model.put("round", round);
    model.put("checkpoint_sha256", held.checkpointSha256());
    model.put("selection_metric", job.spec().selection().metric());
    job.bestRound().ifPresent(best -> model.put("kept_round", best.round()));
    var rounds = card.putArray("rounds");
    Map<String, Double> privacySpent = new TreeMap<>();
    for (RoundRecord record : job.rounds()) {
      ObjectNode row = rounds.addObject();
      row.put("round", record.round());
      record.participants().stream().sorted().forEach(row.putArray("participants")::add);
      ObjectNode dropped = row.putObject("dropped");
      new TreeMap<>(record.dropped()).forEach(dropped::put);
      ObjectNode metrics = row.putObject("metrics");
      new TreeMap<>(record.metrics()).forEach(metrics::put);
      ObjectNode evaluations = row.putObject("evaluations");
      record.evaluations().forEach((hospital, values) -> new TreeMap<>(values).forEach(
          evaluations.putObject(hospital)::put));
      row.put("checkpoint_sha256", record.checkpointSha256());
      if (record.round() <= round) {
        record.evaluations().forEach((hospital, values) -> {
          Double spent = values.get("dp_epsilon");
          if (spent != null) {
            privacySpent.put(hospital, spent);
          }
        });
      }
    }
    ObjectNode privacy = card.putObject("privacy_spent");
    privacySpent.forEach(privacy::put);
    ObjectNode audit = card.putObject("audit_head");
    audit.put("seq", head.seq());
    audit.put("hash", head.hash());
    return new ModelCard(sorted(card));
  }

  /** Canonical JSON: keys sorted at every level, so the bytes, and their SHA-256, are stable. */
  public String json() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(card) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a model card always serialises", e);
    }
  }

  /** The same content for people: what a review board or an auditor reads. */
  public String markdown() {
    JsonNode job = card.get("job");
    JsonNode model = card.get("model");
    JsonNode spec = job.get("spec");
    StringBuilder md = new StringBuilder();
    md.append("# Model card: ").append(job.get("name").asText()).append(" (").append(job.get("id").asText())
        .append(")\n\n");
    md.append("Issued ").append(card.get("issued_at").asText()).append(" by the coordinator; `model-card.json`")
        .append(" holds the same, and `medfed audit verify AUDIT_LOG --card model-card.json` checks it.\n\n");
    md.append("## Model\n\n");
    md.append("- weights of round ").append(model.get("round").asInt());
    if (model.has("kept_round")) {
      md.append(" (the job keeps round ").append(model.get("kept_round").asInt()).append(" by ")
          .append(model.get("selection_metric").asText()).append(')');
    }
    md.append("\n- model file SHA-256 `").append(model.get("file_sha256").asText()).append("`\n");
    md.append("- checkpoint SHA-256 `").append(model.get("checkpoint_sha256").asText()).append("`\n\n");
    md.append("## Job as approved\n\n");
    md.append("- digest the hospitals approved: `").append(job.get("approved_digest").asText()).append("`\n");
    md.append("- submitted by ").append(job.get("submitted_by").asText()).append("; status ")
        .append(job.get("status").asText()).append('\n');
    md.append("- dataset `").append(spec.get("dataset").asText()).append("`, model ").append(spec.get("model"))
        .append(", ").append(spec.get("rounds").asInt()).append(" rounds\n");
    md.append("- strategy ").append(spec.get("strategy")).append('\n');
    md.append("- secure aggregation ").append(spec.get("secure_aggregation")).append('\n');
    if (spec.has("feature_scaling")) {
      md.append("- feature scaling ").append(spec.get("feature_scaling").asText()).append(": inputs are z-scored with"
          + " the consortium's pooled feature means and standard deviations, which the model zip carries"
          + " (`medfed/model-info.json`) and `medfed-agent predict` applies\n");
    }
    md.append("- privacy ").append(spec.has("privacy") ? spec.get("privacy").toString() : "no differential privacy")
        .append("\n\n");
    if (card.get("privacy_spent").size() > 0) {
      md.append("## Privacy spent, as each hospital reported it\n\n| hospital | epsilon |\n|---|---|\n");
      card.get("privacy_spent").fields().forEachRemaining(e -> md.append("| ").append(e.getKey()).append(" | ")
          .append(String.format(Locale.ROOT, "%.3f", e.getValue().asDouble())).append(" |\n"));
      md.append('\n');
    }
    md.append("## Rounds\n\n| round | hospitals | dropped | global metrics |\n|---|---|---|---|\n");
    for (JsonNode round : card.get("rounds")) {
      StringBuilder metrics = new StringBuilder();
      round.get("metrics").fields().forEachRemaining(e -> metrics.append(e.getKey()).append('=')
          .append(String.format(Locale.ROOT, "%.4f", e.getValue().asDouble())).append(' '));
      md.append("| ").append(round.get("round").asInt()).append(" | ").append(join(round.get("participants")))
          .append(" | ").append(round.get("dropped").size() == 0 ? "none" : join(round.get("dropped")))
          .append(" | ").append(metrics.toString().trim()).append(" |\n");
    }
    md.append("\n## Each hospital's evaluation of the model's round\n\n| hospital | metrics |\n|---|---|\n");
    for (JsonNode round : card.get("rounds")) {
      if (round.get("round").asInt() == model.get("round").asInt()) {
        round.get("evaluations").fields().forEachRemaining(e -> {
          StringBuilder values = new StringBuilder();
          e.getValue().fields().forEachRemaining(v -> values.append(v.getKey()).append('=')
              .append(String.format(Locale.ROOT, "%.4f", v.getValue().asDouble())).append(' '));
          md.append("| ").append(e.getKey()).append(" | ").append(values.toString().trim()).append(" |\n");
        });
      }
    }
    md.append("\n## Audit\n\nThe coordinator's audit chain stood at record ").append(card.get("audit_head").get("seq"))
        .append(", hash `").append(card.get("audit_head").get("hash").asText()).append("`, when this card was issued.\n");
    return md.toString();
  }

  private static String join(JsonNode node) {
    StringBuilder text = new StringBuilder();
    if (node.isArray()) {
      node.forEach(n -> text.append(text.length() == 0 ? "" : ", ").append(n.asText()));
    } else {
      node.fieldNames().forEachRemaining(n -> text.append(text.length() == 0 ? "" : ", ").append(n));
    }
    return text.toString();
  }

  private static ObjectNode sorted(ObjectNode node) {
    ObjectNode out = JSON.createObjectNode();
    toMap(node).forEach((key, value) -> out.set(key,
        value.isObject() ? sorted((ObjectNode) value) : value.isArray() ? sortedArray(value) : value));
    return out;
  }

  private static JsonNode sortedArray(JsonNode array) {
    var out = JSON.createArrayNode();
    array.forEach(item -> out.add(item.isObject() ? sorted((ObjectNode) item) : item));
    return out;
  }

  private static Map<String, JsonNode> toMap(ObjectNode node) {
    Map<String, JsonNode> map = new TreeMap<>();
    node.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue()));
    return map;
  }
}
