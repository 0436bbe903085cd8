package org.medfed.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.medfed.coordinator.job.JobField.Type;
import org.medfed.coordinator.model.ModelCatalog;
import org.medfed.proto.v1.PrivacySettings;
import org.medfed.proto.v1.TrainingPlan;
import org.medfed.wire.JobDigest;

/**
 * The job schema's approval claims, proved against the digest hospitals really approve: for every
 * field, a document with the field changed from a base document is parsed, and the digest
 * {@link JobTerms#digest} computes moves exactly when the row says the digest covers the field.
 * A field added to {@link JobSchema} without an example here fails {@link #everyField_hasAnExample}.
 */
class JobSchemaTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final String BASE = """
      name: schema
      dataset: scans
      model: {architecture: mlp, hidden: [8]}
      input_shape: [4]
      num_classes: 2
      rounds: 3
      optimizer: sgd
      """;
  private static final String WITH_DP = "{privacy: {dp_sgd: {epsilon: 3}}}";
  private static final Map<String, Example> EXAMPLES = examples();

  /** A change to one field: {@code change} is merged into the base document after {@code context}. */
  record Example(JsonNode context, JsonNode change) {
    static Example of(String context, String change) {
      return new Example(yaml(context), yaml(change));
    }

    static Example of(String change) {
      return of("{}", change);
    }
  }

  private static Map<String, Example> examples() {
    Map<String, Example> examples = new HashMap<>();
    examples.put("name", Example.of("{name: other}"));
    examples.put("dataset", Example.of("{dataset: other}"));
    examples.put("model.architecture", Example.of("{model: {architecture: cox, hidden: null}, num_classes: null}"));
    examples.put("model.hidden", Example.of("{model: {hidden: [16]}}"));
    examples.put("model.dl4j_json", dl4jJsonExample());
    examples.put("input_shape", Example.of("{input_shape: [5]}"));
    examples.put("num_classes", Example.of("{num_classes: 3}"));
    examples.put("features", Example.of("{features: [a, b, c, d]}"));
    examples.put("rounds", Example.of(WITH_DP, "{rounds: 5}"));
    examples.put("min_nodes", Example.of("{min_nodes: 3}"));
    examples.put("fraction", Example.of("{fraction: 0.5}"));
    examples.put("local_epochs", Example.of("{local_epochs: 2}"));
    examples.put("local_steps", Example.of("{local_steps: 10}"));
    examples.put("batch_size", Example.of("{batch_size: 16}"));
    examples.put("learning_rate", Example.of("{learning_rate: 0.01}"));
    examples.put("optimizer", Example.of("{optimizer: adam}"));
    examples.put("seed", Example.of("{seed: 7}"));
    examples.put("local_baseline", Example.of("{local_baseline: true}"));
    examples.put("feature_scaling", Example.of("{feature_scaling: consortium-zscore}"));
    examples.put("deadlines.selection", Example.of("{deadlines: {selection: 30s}}"));
    examples.put("deadlines.training", Example.of("{deadlines: {training: 30s}}"));
    examples.put("deadlines.evaluation", Example.of("{deadlines: {evaluation: 30s}}"));
    examples.put("round_retries", Example.of("{round_retries: 2}"));
    examples.put("model_selection.metric", Example.of("{model_selection: {metric: eval_loss}}"));
    examples.put("model_selection.mode", Example.of("{model_selection: {mode: min}}"));
    examples.put("model_selection.patience", Example.of("{model_selection: {patience: 3}}"));
    examples.put("model_selection.min_delta", Example.of("{model_selection: {min_delta: 0.01}}"));
    examples.put("strategy", Example.of("{strategy: fedprox}"));
    examples.put("strategy.name", Example.of("{strategy: {name: scaffold}}"));
    for (StrategyParameter parameter : StrategyParameter.values()) {
      examples.put("strategy." + parameter.field(), strategyExample(parameter));
    }
    examples.put("secure_aggregation", Example.of("{secure_aggregation: false}"));
    examples.put("secure_aggregation.enabled", Example.of("{secure_aggregation: {enabled: false}}"));
    examples.put("secure_aggregation.clip", Example.of("{secure_aggregation: {clip: 2.0}}"));
    examples.put("secure_aggregation.max_samples_per_node",
        Example.of("{secure_aggregation: {max_samples_per_node: 1000}}"));
    examples.put("secure_aggregation.stage_deadline", Example.of("{secure_aggregation: {stage_deadline: 30s}}"));
    examples.put("secure_aggregation.neighbours", Example.of("{secure_aggregation: {neighbours: 4}}"));
    examples.put("privacy.dp_sgd.clip", Example.of(WITH_DP, "{privacy: {dp_sgd: {clip: 2.0}}}"));
    examples.put("privacy.dp_sgd.epsilon", Example.of(WITH_DP, "{privacy: {dp_sgd: {epsilon: 5}}}"));
    examples.put("privacy.dp_sgd.noise_multiplier", Example.of("{privacy: {dp_sgd: {noise_multiplier: 1.0}}}",
        "{privacy: {dp_sgd: {noise_multiplier: 2.0}}}"));
    examples.put("privacy.dp_sgd.delta", Example.of(WITH_DP, "{privacy: {dp_sgd: {delta: 1.0e-6}}}"));
    return examples;
  }

  /** The first strategy that takes the parameter, with what else it needs, and a value unlike its default. */
  private static Example strategyExample(StrategyParameter parameter) {
    StrategyName strategy = Stream.of(StrategyName.values()).filter(s -> s.takes().contains(parameter)).findFirst()
        .orElseThrow(() -> new AssertionError("no strategy takes " + parameter.field()));
    String required = switch (strategy) {
      case KRUM -> ", byzantine: 1";
      case MULTIKRUM -> ", byzantine: 1, selected: 2";
      default -> "";
    };
    String plaintext = strategy.needsEachUpdate() ? ", secure_aggregation: false" : "";
    String value = switch (parameter) {
      case BYZANTINE -> "2";
      case SELECTED -> "3";
      case TRIM_FRACTION -> "0.1";
      default -> "0.5";
    };
    return Example.of("{strategy: {name: " + strategy.label() + required + "}" + plaintext + "}",
        "{strategy: {" + parameter.field() + ": " + value + "}}");
  }

  /** The base model as a DL4J configuration, changed to another layer size. */
  private static Example dl4jJsonExample() {
    ObjectNode context = (ObjectNode) yaml("{model: {architecture: null, hidden: null}}");
    ((ObjectNode) context.get("model")).set("dl4j_json", json(configOf(BASE)));
    ObjectNode change = YAML.createObjectNode();
    change.putObject("model").set("dl4j_json", json(configOf(BASE.replace("hidden: [8]", "hidden: [16]"))));
    return new Example(context, change);
  }

  static Stream<JobField> leafFields() {
    return JobSchema.fields().stream().filter(f -> f.type() != Type.MAPPING);
  }

  @Test
  void everyField_hasAnExample() {
    List<String> missing = leafFields().map(JobField::path).filter(p -> !EXAMPLES.containsKey(p)).toList();
    assertEquals(List.of(), missing, "give each new job field an example in JobSchemaTest.examples(), so that"
        + " its row's claim about the approval digest is tested");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("leafFields")
  void changingAField_movesTheDigest_exactlyWhenItsRowSaysTheDigestCoversIt(JobField field) {
    Example example = EXAMPLES.get(field.path());
    if (example == null) {
      fail("no example for " + field.path());
    }
    JsonNode base = merge(yaml(BASE), example.context());
    JobSpec before = JobSpecParser.parse(base.toString());
    JobSpec after = JobSpecParser.parse(merge(base, example.change()).toString());
    assertNotEquals(JobSpecParser.toJson(before), JobSpecParser.toJson(after),
        field.path() + ": the example must change the job");

    String digestBefore = JobTerms.digest(before, ModelCatalog.initialModel(before));
    String digestAfter = JobTerms.digest(after, ModelCatalog.initialModel(after));

    if (field.approval().covered()) {
      assertNotEquals(digestBefore, digestAfter, field.path() + " is declared covered by "
          + field.approval().covers() + " but changing it leaves the approved digest alone");
    } else {
      assertEquals(digestBefore, digestAfter, field.path() + " is declared outside the digest ("
          + field.approval().why() + ") but changing it moves the digest");
    }
  }

  /**
   * Walks the wire messages a hospital approves: every field of the training plan and the privacy
   * settings is reached from some job field, names real fields, and agrees with what
   * {@link JobDigest} leaves out.
   */
  @Test
  void everyWireField_isReachedFromTheSchema_andExclusionsAgreeWithTheDigest() {
    Set<String> wire = new TreeSet<>();
    for (Descriptor message : List.of(TrainingPlan.getDescriptor(), PrivacySettings.getDescriptor())) {
      for (FieldDescriptor field : message.getFields()) {
        wire.add(message.getName() + "." + field.getName());
      }
    }
    Set<String> claimed = new TreeSet<>();
    Set<String> excluded = new TreeSet<>();
    for (JobField field : JobSchema.fields()) {
      for (String target : field.approval().wireFields()) {
        assertTrue(wire.contains(target) || target.equals("JobDigest.dataset"),
            field.path() + " names " + target + ", which is no field of TrainingPlan or PrivacySettings");
        claimed.add(target);
      }
      excluded.addAll(field.approval().sentUncovered());
    }
    Set<String> unclaimed = new TreeSet<>(wire);
    unclaimed.removeAll(claimed);
    assertEquals(Set.of(), unclaimed, "wire fields no job field reaches: say in JobSchema which field sets them"
        + " and whether the approval digest covers them");
    assertEquals(JobDigest.excludedFields(), excluded, "the schema's excluded fields must be exactly those"
        + " JobDigest leaves out");
  }

  @Test
  void parser_acceptsTheKeysTheSchemaDeclares_andNoOthers() {
    for (JobField field : JobSchema.fields()) {
      assertTrue(JobSchema.keysUnder(field.parent()).contains(field.key()), field.path());
    }
    InvalidJobSpecException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse(BASE + "secure_aggregation: {clips: 2}\n"));
    assertEquals("secure_aggregation.clips", e.field());
    assertTrue(e.getMessage().contains(JobSchema.keysUnder("secure_aggregation").toString()), e.getMessage());
  }

  @Test
  void defaultsInTheSchema_areWhatTheParserFillsIn() {
    JobSpec spec = JobSpecParser.parse(BASE);
    assertEquals(JobSchema.MIN_NODES.fallback(), (long) spec.minNodes());
    assertEquals(JobSchema.BATCH_SIZE.fallback(), (long) spec.batchSize());
    assertEquals(JobSchema.LEARNING_RATE.fallback(), spec.learningRate());
    assertEquals(JobSchema.SEED.fallback(), spec.seed());
    assertEquals(JobSchema.DEADLINE_TRAINING.fallback(), spec.deadlines().training());
    assertEquals(JobSchema.SECAGG_CLIP.fallback(), spec.secureAggregation().clip());
    assertEquals(JobSchema.SECAGG_ENABLED.fallback(), spec.secureAggregation().enabled());
    assertFalse(spec.localBaseline());
  }

  @Test
  void docsJobsMd_holdsTheSchemaTable() throws Exception {
    Path docs = Path.of("..", "docs", "jobs.md");
    String table = JobSchema.markdownTable();
    String text = Files.isRegularFile(docs) ? Files.readString(docs) : "";
    if (!text.contains(table)) {
      Path written = Path.of("target", "jobs-table.md");
      Files.writeString(written, table);
      fail("docs/jobs.md does not hold the job schema's table; the current table is in coordinator/" + written
          + ": paste it over the table in docs/jobs.md");
    }
  }

  private static String configOf(String document) {
    JobSpec spec = JobSpecParser.parse(document);
    return ModelCatalog.initialModel(spec).configJson();
  }

  private static JsonNode yaml(String text) {
    try {
      return YAML.readTree(text);
    } catch (Exception e) {
      throw new AssertionError("bad YAML in the test: " + text, e);
    }
  }

  private static JsonNode json(String text) {
    try {
      return new ObjectMapper().readTree(text);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** {@code patch} over a copy of {@code base}: mappings merge, a null removes the key, anything else replaces. */
  private static JsonNode merge(JsonNode base, JsonNode patch) {
    ObjectNode merged = base.deepCopy();
    List<String> keys = new ArrayList<>();
    patch.fieldNames().forEachRemaining(keys::add);
    for (String key : keys) {
      JsonNode value = patch.get(key);
      if (value.isNull()) {
        merged.remove(key);
      } else if (value.isObject() && merged.path(key).isObject()) {
        merged.set(key, merge(merged.get(key), value));
      } else {
        merged.set(key, value.deepCopy());
      }
    }
    return merged;
  }
}
