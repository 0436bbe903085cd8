package org.medfed.nodeagent.session;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.Set;
import org.medfed.nodeagent.data.OmopMapping;
import org.medfed.nodeagent.session.AgentConfigLoader.ConfigException;
import org.medfed.trust.config.YamlConfig;

/**
 * Reads a {@code format: omop} dataset's {@code database:} and {@code mapping:} sections; every
 * error names the file and the field, e.g. {@code datasets[0].mapping.features[2].aggregate}. The
 * password is never in the file: {@code password_env} names an environment variable, {@code
 * password_file} a file (relative to the agent configuration's folder).
 *
 * <pre>
 * database:
 *   url: jdbc:postgresql://omop-db:5432/cdm
 *   user: medfed_reader                   # a role with SELECT only; the agent refuses one that can write
 *   password_env: MEDFED_OMOP_PASSWORD    # or password_file: secrets/omop-password
 *   schema: cdm
 * mapping:
 *   cohort: {table: results.cohort, target: 1001, outcome: 1002, risk_window: 365d}
 *           # or {query: "SELECT person_id, index_date, label FROM ..."}
 *   window: 365d                          # records dated this far before the index date, up to it
 *   features:
 *     - {id: hba1c, measurement: 3004410, aggregate: last}        # last | mean | min | max | count | present
 *     - {id: hypertension, condition: [320128], aggregate: present, window: 3650d} # present | count; own window
 *     - {id: metformin, drug: 1503297, aggregate: count}
 *     - {id: smoker, observation: 4298794, aggregate: present}
 *     - {id: age, person: age}                                    # age | female | male
 * </pre>
 */
final class OmopMappingConfig {
  private static final Set<String> DATABASE_FIELDS = Set.of("url", "user", "password_env", "password_file", "schema");

  private OmopMappingConfig() {}

  /** The mapping from the dataset's {@code database} and {@code mapping} sections. */
  static OmopMapping read(Path file, String path, JsonNode dataset, Path base) {
    OmopMapping.Database database = database(file, path + ".database",
        FhirMappingConfig.required(file, path, dataset, "database"), base);
    String at = path + ".mapping";
    JsonNode node = FhirMappingConfig.required(file, path, dataset, "mapping");
    if (!node.isObject()) {
      throw new ConfigException(file + ": " + at + " must be a mapping with cohort, window and features");
    }
    YamlConfig.checkKnown(file, at + ".", node, Set.of("cohort", "window", "features"));
    JsonNode featuresNode = FhirMappingConfig.required(file, at, node, "features");
    if (!featuresNode.isArray() || featuresNode.isEmpty()) {
      throw new ConfigException(file + ": " + at + ".features must be a list of features, e.g. - {id: hba1c,"
          + " measurement: 3004410, aggregate: last}");
    }
    List<OmopMapping.Feature> features = new ArrayList<>();
    for (int i = 0; i < featuresNode.size(); i++) {
      features.add(feature(file, at + ".features[" + i + "]", featuresNode.get(i)));
    }
    OmopMapping.Cohort cohort = cohort(file, at + ".cohort", FhirMappingConfig.required(file, at, node, "cohort"));
    try {
      return new OmopMapping(database, cohort, features, FhirMappingConfig.days(file, at + ".window",
          FhirMappingConfig.required(file, at, node, "window")));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + at + ": " + e.getMessage());
    }
  }

  private static OmopMapping.Database database(Path file, String path, JsonNode node, Path base) {
    if (!node.isObject()) {
      throw new ConfigException(file + ": " + path + " must be a mapping with url, user, schema and password_env or"
          + " password_file");
    }
    if (node.has("password")) {
      throw new ConfigException(file + ": " + path + ".password: the password must not be written in the agent's"
          + " configuration; give password_env (an environment variable's name) or password_file (a file only the"
          + " agent's user can read)");
    }
    YamlConfig.checkKnown(file, path + ".", node, DATABASE_FIELDS);
    if (node.has("password_env") == node.has("password_file")) {
      throw new ConfigException(file + ": " + path + " needs exactly one of password_env (an environment variable's"
          + " name) or password_file (a file holding the password)");
    }
    try {
      OmopMapping.Password password = node.has("password_env")
          ? new OmopMapping.PasswordFromEnv(node.get("password_env").asText().trim())
          : new OmopMapping.PasswordFromFile(base.resolve(node.get("password_file").asText().trim()).normalize());
      return new OmopMapping.Database(FhirMappingConfig.required(file, path, node, "url").asText().trim(),
          FhirMappingConfig.required(file, path, node, "user").asText().trim(), password,
          FhirMappingConfig.required(file, path, node, "schema").asText().trim());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + path.substring(0, path.lastIndexOf('.')) + ": " + e.getMessage());
    }
  }

  private static OmopMapping.Cohort cohort(Path file, String path, JsonNode node) {
    if (!node.isObject() || node.has("table") == node.has("query")) {
      throw new ConfigException(file + ": " + path + " must be {table: cohort, target: ID, outcome: ID, risk_window:"
          + " 365d} (the OHDSI cohort table) or {query: \"SELECT ...\"} returning person_id, index_date and label"
          + " (or, for omop_survival, time and event)");
    }
    try {
      if (node.has("query")) {
        YamlConfig.checkKnown(file, path + ".", node, Set.of("query"));
        return new OmopMapping.CohortQuery(node.get("query").asText());
      }
      YamlConfig.checkKnown(file, path + ".", node, Set.of("table", "target", "outcome", "risk_window"));
      JsonNode risk = node.get("risk_window");
      return new OmopMapping.CohortTable(node.get("table").asText().trim(), id(file, path + ".target",
          FhirMappingConfig.required(file, path, node, "target")), id(file, path + ".outcome",
          FhirMappingConfig.required(file, path, node, "outcome")), risk == null ? OptionalInt.empty()
          : OptionalInt.of(FhirMappingConfig.days(file, path + ".risk_window", risk)));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + path.substring(0, path.lastIndexOf('.')) + ": " + e.getMessage());
    }
  }

  private static OmopMapping.Feature feature(Path file, String path, JsonNode node) {
    if (!node.isObject()) {
      throw new ConfigException(file + ": " + path + " must be a mapping such as {id: hba1c, measurement: 3004410,"
          + " aggregate: last}");
    }
    YamlConfig.checkKnown(file, path + ".", node, Set.of("id", "condition", "drug", "measurement", "observation",
        "person", "aggregate", "window"));
    String id = FhirMappingConfig.required(file, path, node, "id").asText();
    List<String> sources = Set.of("condition", "drug", "measurement", "observation", "person").stream()
        .filter(node::has).sorted().toList();
    if (sources.size() != 1) {
      throw new ConfigException(file + ": " + path + " ('" + id + "') must name exactly one of condition, drug,"
          + " measurement, observation or person, got " + sources);
    }
    String source = sources.get(0);
    try {
      if (source.equals("person")) {
        if (node.has("aggregate") || node.has("window")) {
          throw new ConfigException(file + ": " + path + ": aggregate and window apply to condition, drug,"
              + " measurement and observation features only");
        }
        return new OmopMapping.PersonFeature(id, FhirMappingConfig.choice(file, path + ".person", node.get("person"),
            OmopMapping.PersonField.class));
      }
      List<Long> concepts = new ArrayList<>();
      JsonNode ids = node.get(source);
      for (JsonNode concept : ids.isArray() ? ids : List.of(ids)) {
        concepts.add(id(file, path + "." + source, concept));
      }
      JsonNode window = node.get("window");
      return new OmopMapping.Covariate(id, OmopMapping.Domain.valueOf(source.toUpperCase(Locale.ROOT)), concepts,
          FhirMappingConfig.choice(file, path + ".aggregate", FhirMappingConfig.required(file, path, node,
              "aggregate"), OmopMapping.Aggregate.class), window == null ? OptionalInt.empty()
              : OptionalInt.of(FhirMappingConfig.days(file, path + ".window", window)));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + path + ": " + e.getMessage());
    }
  }

  /** A concept or cohort definition id: a whole number. */
  private static long id(Path file, String path, JsonNode node) {
    if (!node.canConvertToLong() || !node.isIntegralNumber()) {
      throw new ConfigException(file + ": " + path + " must be a concept id (a whole number such as 3004410) or a"
          + " list of them, got '" + node.asText() + "'");
    }
    return node.asLong();
  }
}
