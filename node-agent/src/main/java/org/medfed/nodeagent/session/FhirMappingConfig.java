package org.medfed.nodeagent.session;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.medfed.nodeagent.data.FhirMapping;
import org.medfed.nodeagent.session.AgentConfigLoader.ConfigException;
import org.medfed.trust.config.YamlConfig;

/**
 * Reads a {@code format: fhir} dataset's {@code mapping:} section; every error names the file and
 * the field, e.g. {@code datasets[0].mapping.features[2].aggregate}.
 *
 * <pre>
 * mapping:
 *   index_date: 2024-01-01        # or label: a case's earliest label date, a control's latest Observation
 *   window: 365d                  # Observations dated this far before the index date, up to it
 *   features:
 *     - {id: hba1c, observation: loinc|4548-4, aggregate: last}       # last | mean | min | max
 *     - {id: hypertension, condition: [snomed|38341003, icd10|I10]}   # 1 if diagnosed by the index date
 *     - {id: age, patient: age}                                      # age | female | male | other
 *   label: {condition: snomed|44054006}   # or {observation: loinc|4548-4, above: 6.5}
 *                                         # or, for fhir_survival, {event: snomed|22298006}
 * </pre>
 */
final class FhirMappingConfig {
  private static final Set<String> FIELDS = Set.of("index_date", "window", "features", "label");
  private static final Pattern DAYS = Pattern.compile("(\\d+)\\s*d");

  private FhirMappingConfig() {}

  static FhirMapping read(Path file, String path, JsonNode node) {
    if (!node.isObject()) {
      throw new ConfigException(file + ": " + path + " must be a mapping with index_date, window, features and label");
    }
    YamlConfig.checkKnown(file, path + ".", node, FIELDS);
    JsonNode featuresNode = required(file, path, node, "features");
    if (!featuresNode.isArray() || featuresNode.isEmpty()) {
      throw new ConfigException(file + ": " + path + ".features must be a list of features, e.g. - {id: hba1c,"
          + " observation: loinc|4548-4, aggregate: last}");
    }
    List<FhirMapping.Feature> features = new ArrayList<>();
    for (int i = 0; i < featuresNode.size(); i++) {
      features.add(feature(file, path + ".features[" + i + "]", featuresNode.get(i)));
    }
    FhirMapping.Label label = label(file, path + ".label", required(file, path, node, "label"));
    try {
      return new FhirMapping(features, label, indexDate(file, path, required(file, path, node, "index_date")),
          days(file, path + ".window", required(file, path, node, "window")));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + path + ": " + e.getMessage());
    }
  }

  private static FhirMapping.Feature feature(Path file, String path, JsonNode node) {
    if (!node.isObject()) {
      throw new ConfigException(file + ": " + path + " must be a mapping such as {id: hba1c, observation:"
          + " loinc|4548-4, aggregate: last}");
    }
    YamlConfig.checkKnown(file, path + ".", node, Set.of("id", "observation", "condition", "patient", "aggregate"));
    String id = required(file, path, node, "id").asText();
    List<String> sources = Set.of("observation", "condition", "patient").stream().filter(node::has).sorted().toList();
    if (sources.size() != 1) {
      throw new ConfigException(file + ": " + path + " ('" + id + "') must name exactly one of observation, condition"
          + " or patient, got " + sources);
    }
    try {
      return switch (sources.get(0)) {
        case "observation" -> new FhirMapping.Lab(id, codes(file, path + ".observation", node.get("observation")),
            choice(file, path + ".aggregate", required(file, path, node, "aggregate"), FhirMapping.Aggregate.class));
        case "condition" -> {
          noAggregate(file, path, node);
          yield new FhirMapping.Diagnosis(id, codes(file, path + ".condition", node.get("condition")));
        }
        default -> {
          noAggregate(file, path, node);
          yield new FhirMapping.Demographic(id, choice(file, path + ".patient", node.get("patient"),
              FhirMapping.PatientField.class));
        }
      };
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + path + ": " + e.getMessage());
    }
  }

  private static void noAggregate(Path file, String path, JsonNode node) {
    if (node.has("aggregate")) {
      throw new ConfigException(file + ": " + path + ".aggregate applies to observation features only");
    }
  }

  private static FhirMapping.Label label(Path file, String path, JsonNode node) {
    if (!node.isObject() || Stream.of("condition", "observation", "event").filter(node::has).count() != 1) {
      throw new ConfigException(file + ": " + path + " must be {condition: CODE} (present: the second class),"
          + " {observation: CODE, above: NUMBER} (the latest value above it: the second class) or, for format"
          + " fhir_survival, {event: CODE} (days from the index date to the first such Condition)");
    }
    YamlConfig.checkKnown(file, path + ".", node, Set.of("condition", "observation", "event", "above"));
    if (!node.has("observation") && node.has("above")) {
      throw new ConfigException(file + ": " + path + ".above applies to an observation label only");
    }
    try {
      if (node.has("condition")) {
        return new FhirMapping.ConditionLabel(codes(file, path + ".condition", node.get("condition")));
      }
      if (node.has("event")) {
        return new FhirMapping.EventLabel(codes(file, path + ".event", node.get("event")));
      }
      JsonNode above = node.get("above");
      if (above == null || !above.isNumber()) {
        throw new ConfigException(file + ": " + path + ".above must be a number: the latest value above it labels the"
            + " patient with the second class");
      }
      return new FhirMapping.ObservationLabel(codes(file, path + ".observation", node.get("observation")),
          above.asDouble());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + path + ": " + e.getMessage());
    }
  }

  /** One {@code SYSTEM|CODE} or a list of them (one concept in several code systems). */
  private static List<FhirMapping.Code> codes(Path file, String path, JsonNode node) {
    List<JsonNode> items = new ArrayList<>();
    if (node.isArray()) {
      node.forEach(items::add);
    } else {
      items.add(node);
    }
    List<FhirMapping.Code> codes = new ArrayList<>();
    for (JsonNode item : items) {
      if (!item.isTextual()) {
        throw new ConfigException(file + ": " + path + " must be SYSTEM|CODE or a list of them, e.g. loinc|4548-4");
      }
      try {
        codes.add(FhirMapping.Code.parse(item.asText()));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(file + ": " + path + ": " + e.getMessage());
      }
    }
    return codes;
  }

  private static FhirMapping.IndexDate indexDate(Path file, String path, JsonNode node) {
    String text = node.asText().trim();
    if (text.equals("label")) {
      return new FhirMapping.AtLabel();
    }
    try {
      return new FhirMapping.FixedDate(LocalDate.parse(text));
    } catch (DateTimeParseException e) {
      throw new ConfigException(file + ": " + path + ".index_date is '" + text + "'; expected a date (YYYY-MM-DD,"
          + " the same for every patient) or label (each case at its label's date, each control at its latest"
          + " Observation)");
    }
  }

  /** A number of days such as {@code 365d} at {@code field}; shared with {@link OmopMappingConfig}. */
  static int days(Path file, String field, JsonNode node) {
    Matcher days = DAYS.matcher(node.asText().trim());
    if (!days.matches()) {
      throw new ConfigException(file + ": " + field + " must be a number of days such as 365d, got '"
          + node.asText() + "'");
    }
    return Integer.parseInt(days.group(1));
  }

  static <E extends Enum<E>> E choice(Path file, String path, JsonNode node, Class<E> type) {
    try {
      return Enum.valueOf(type, node.asText().trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      List<String> allowed = new ArrayList<>();
      for (E constant : type.getEnumConstants()) {
        allowed.add(constant.name().toLowerCase(Locale.ROOT));
      }
      throw new ConfigException(file + ": " + path + " is '" + node.asText() + "'; expected one of " + allowed);
    }
  }

  static JsonNode required(Path file, String path, JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull() || (value.isValueNode() && value.asText().isBlank())) {
      throw new ConfigException(file + ": " + path + " is missing required field '" + field + "'");
    }
    return value;
  }
}
