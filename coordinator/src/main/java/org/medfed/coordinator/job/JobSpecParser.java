package org.medfed.coordinator.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses a job document (YAML, or JSON, which is YAML) into a {@link JobSpec}. Unknown fields are
 * errors, not ignored, so that a typo such as {@code roundz} cannot silently fall back to a default.
 *
 * <pre>
 * name: imaging-demo
 * dataset: scans
 * model: {architecture: small-cnn}
 * input_shape: [1, 28, 28]
 * num_classes: 4
 * rounds: 20
 * min_nodes: 3
 * local_epochs: 1
 * optimizer: nesterov
 * deadlines: {training: 5m}
 * round_retries: 2      # a failed round is tried again twice before the job fails
 * </pre>
 */
public final class JobSpecParser {
  private static final Set<String> FIELDS = Set.of("name", "dataset", "model", "input_shape", "num_classes", "features",
      "rounds", "min_nodes", "fraction", "local_epochs", "batch_size", "learning_rate", "seed", "deadlines",
      "round_retries", "model_selection", "local_steps", "privacy", "local_baseline",
      "strategy", "optimizer", "secure_aggregation");
  private static final Set<String> PRIVACY_FIELDS = Set.of("dp_sgd");
  private static final Set<String> DP_SGD_FIELDS = Set.of("clip", "epsilon", "noise_multiplier", "delta");
  private static final Set<String> SELECTION_FIELDS = Set.of("metric", "mode", "patience", "min_delta");
  private static final Set<String> MODEL_FIELDS = Set.of("architecture", "hidden", "dl4j_json");
  private static final Set<String> STRATEGY_FIELDS = strategyFields();
  /**
   * Coordinators before issue 13 wrote these neutral values into every fedavg job's stored JSON;
   * they are dropped where the strategy takes no such field, so those jobs still load on restart.
   */
  private static final Map<StrategyParameter, Double> NEUTRAL = Map.of(
      StrategyParameter.SERVER_LEARNING_RATE, 1.0, StrategyParameter.SERVER_MOMENTUM, 0.0);
  private static final Set<String> SECAGG_FIELDS = Set.of("enabled", "clip", "max_samples_per_node", "stage_deadline",
      "neighbours");
  private static final Set<String> DEADLINE_FIELDS = Set.of("selection", "training", "evaluation");
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();

  private JobSpecParser() {}

  /** @throws InvalidJobSpecException naming the offending field */
  public static JobSpec parse(String document) {
    JsonNode root;
    try {
      root = YAML.readTree(document);
    } catch (JsonProcessingException e) {
      throw new InvalidJobSpecException("(document)", "not valid YAML or JSON: "
          + e.getOriginalMessage() + locationOf(e));
    }
    if (root == null || !root.isObject()) {
      throw new InvalidJobSpecException("(document)", "expected a mapping of job fields such as name, dataset, model");
    }
    checkKnown("", root, FIELDS);
    StageDeadlines defaults = StageDeadlines.defaults();
    JsonNode deadlines = root.path("deadlines");
    if (!deadlines.isMissingNode()) {
      requireObject("deadlines", deadlines);
      checkKnown("deadlines.", deadlines, DEADLINE_FIELDS);
    }
    ModelSpec model = model(root.get("model"));
    return new JobSpec(
        requiredText(root, "name"),
        requiredText(root, "dataset"),
        model,
        shape(root.get("input_shape")),
        // A survival model predicts a risk score, not one of num_classes classes.
        (int) integer(root, "num_classes", model.survival() ? 0L : null),
        (int) integer(root, "rounds", null),
        (int) integer(root, "min_nodes", 2L),
        number(root, "fraction", 1.0),
        (int) integer(root, "local_epochs", 1L),
        (int) integer(root, "batch_size", 32L),
        number(root, "learning_rate", 0.001),
        integer(root, "seed", 42L),
        new StageDeadlines(
            duration(deadlines, "deadlines.selection", defaults.selection()),
            duration(deadlines, "deadlines.training", defaults.training()),
            duration(deadlines, "deadlines.evaluation", defaults.evaluation())),
        strategy(root.get("strategy")),
        enumValue("optimizer", root.path("optimizer").asText("adam"), Optimizer.class),
        secureAggregation(root.get("secure_aggregation")),
        features(root.get("features")),
        (int) integer(root, "round_retries", 0L),
        selection(root.get("model_selection"), model),
        localSteps(root),
        dpSgd(root.get("privacy")),
        bool(root, "local_baseline", false));
  }

  /** The spec as canonical JSON: shown back to users and checkpointed beside the model. */
  public static String toJson(JobSpec spec) {
    ObjectNode root = JSON.createObjectNode();
    root.put("name", spec.name());
    root.put("dataset", spec.dataset());
    ObjectNode model = root.putObject("model");
    if (spec.model() instanceof ModelSpec.BuiltIn b) {
      model.put("architecture", b.architecture().name().toLowerCase(Locale.ROOT).replace('_', '-'));
      ArrayNode hidden = model.putArray("hidden");
      b.hiddenUnits().forEach(hidden::add);
    } else if (spec.model() instanceof ModelSpec.Dl4jJson j) {
      model.put("dl4j_json", j.json());
    }
    ArrayNode shape = root.putArray("input_shape");
    Arrays.stream(spec.inputShape()).forEach(shape::add);
    root.put("num_classes", spec.numClasses());
    root.put("rounds", spec.rounds());
    root.put("min_nodes", spec.minNodes());
    root.put("fraction", spec.fractionPerRound());
    root.put("local_epochs", spec.localEpochs());
    if (spec.localSteps() > 0) {
      root.put("local_steps", spec.localSteps());
    }
    if (spec.localBaseline()) {
      root.put("local_baseline", true);
    }
    spec.dpSgd().ifPresent(dp -> {
      ObjectNode node = root.putObject("privacy").putObject("dp_sgd");
      node.put("clip", dp.clip());
      dp.targetEpsilon().ifPresent(e -> node.put("epsilon", e));
      dp.noiseMultiplier().ifPresent(s -> node.put("noise_multiplier", s));
      node.put("delta", dp.delta());
    });
    root.put("batch_size", spec.batchSize());
    root.put("learning_rate", spec.learningRate());
    root.put("seed", spec.seed());
    ObjectNode deadlines = root.putObject("deadlines");
    deadlines.put("selection", spec.deadlines().selection().toMillis() + "ms");
    deadlines.put("training", spec.deadlines().training().toMillis() + "ms");
    deadlines.put("evaluation", spec.deadlines().evaluation().toMillis() + "ms");
    root.put("round_retries", spec.roundRetries());
    ObjectNode selection = root.putObject("model_selection");
    selection.put("metric", spec.selection().metric());
    selection.put("mode", spec.selection().maximize() ? "max" : "min");
    selection.put("patience", spec.selection().patience());
    selection.put("min_delta", spec.selection().minDelta());
    ObjectNode strategy = root.putObject("strategy");
    strategy.put("name", spec.strategy().name().label());
    spec.strategy().parameters().forEach((parameter, value) -> {
      if (parameter.integral()) {
        strategy.put(parameter.field(), value.longValue());
      } else {
        strategy.put(parameter.field(), value);
      }
    });
    root.put("optimizer", spec.optimizer().name().toLowerCase(Locale.ROOT));
    if (!spec.features().isEmpty()) {
      ArrayNode features = root.putArray("features");
      spec.features().forEach(features::add);
    }
    ObjectNode secure = root.putObject("secure_aggregation");
    secure.put("enabled", spec.secureAggregation().enabled());
    secure.put("clip", spec.secureAggregation().clip());
    secure.put("max_samples_per_node", spec.secureAggregation().maxSamplesPerNode());
    secure.put("stage_deadline", spec.secureAggregation().stageDeadline().toMillis() + "ms");
    secure.put("neighbours", spec.secureAggregation().neighbours());
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a job spec", e);
    }
  }

  private static ModelSpec model(JsonNode node) {
    if (node == null) {
      throw new InvalidJobSpecException("model", "missing; give {architecture: small-cnn|small-cnn3d|mlp|cox} or {dl4j_json: ...}");
    }
    requireObject("model", node);
    checkKnown("model.", node, MODEL_FIELDS);
    boolean builtIn = node.has("architecture");
    boolean custom = node.has("dl4j_json");
    if (builtIn == custom) {
      throw new InvalidJobSpecException("model", "give exactly one of 'architecture' or 'dl4j_json'");
    }
    if (custom) {
      JsonNode json = node.get("dl4j_json");
      return new ModelSpec.Dl4jJson(json.isTextual() ? json.asText() : json.toString());
    }
    ModelSpec.Architecture architecture = enumValue("model.architecture", node.get("architecture").asText(),
        ModelSpec.Architecture.class);
    List<Integer> hidden = new ArrayList<>();
    JsonNode hiddenNode = node.get("hidden");
    if (hiddenNode != null) {
      if (!hiddenNode.isArray()) {
        throw new InvalidJobSpecException("model.hidden", "must be a list of layer sizes, got " + hiddenNode);
      }
      for (JsonNode units : hiddenNode) {
        if (!units.canConvertToInt() || !units.isIntegralNumber()) {
          throw new InvalidJobSpecException("model.hidden", "layer sizes must be integers, got " + hiddenNode);
        }
        hidden.add(units.asInt());
      }
    }
    return new ModelSpec.BuiltIn(architecture, hidden);
  }

  /** {@code secure_aggregation: false}, or a mapping of its settings; absent means on with defaults. */
  private static SecureAggregationSpec secureAggregation(JsonNode node) {
    SecureAggregationSpec defaults = SecureAggregationSpec.defaults();
    if (node == null || node.isNull()) {
      return defaults;
    }
    if (node.isBoolean()) {
      return node.asBoolean() ? defaults : SecureAggregationSpec.off();
    }
    if (!node.isObject()) {
      throw new InvalidJobSpecException("secure_aggregation", "must be true, false or a mapping, got " + node);
    }
    checkKnown("secure_aggregation.", node, SECAGG_FIELDS);
    JsonNode enabled = node.get("enabled");
    if (enabled != null && !enabled.isBoolean()) {
      throw new InvalidJobSpecException("secure_aggregation.enabled", "must be true or false, got " + enabled);
    }
    return new SecureAggregationSpec(enabled == null || enabled.asBoolean(),
        number(node, "clip", defaults.clip()),
        integer(node, "max_samples_per_node", defaults.maxSamplesPerNode()),
        duration(node, "secure_aggregation.stage_deadline", defaults.stageDeadline()),
        (int) integer(node, "neighbours", 0L));
  }

  /** {@code privacy: {dp_sgd: {epsilon: 3, delta: 1e-5, clip: 1.0}}}, or noise_multiplier instead of epsilon. */
  private static Optional<DpSgdSpec> dpSgd(JsonNode privacy) {
    if (privacy == null || privacy.isNull()) {
      return Optional.empty();
    }
    requireObject("privacy", privacy);
    checkKnown("privacy.", privacy, PRIVACY_FIELDS);
    JsonNode node = privacy.get("dp_sgd");
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    requireObject("privacy.dp_sgd", node);
    checkKnown("privacy.dp_sgd.", node, DP_SGD_FIELDS);
    return Optional.of(new DpSgdSpec(number(node, "clip", 1.0),
        node.has("noise_multiplier") ? OptionalDouble.of(number(node, "noise_multiplier", 0)) : OptionalDouble.empty(),
        node.has("epsilon") ? OptionalDouble.of(number(node, "epsilon", 0)) : OptionalDouble.empty(),
        number(node, "delta", 1e-5)));
  }

  /** {@code local_steps: 100} replaces local_epochs; a document that gives both is ambiguous. */
  private static int localSteps(JsonNode root) {
    int steps = (int) integer(root, "local_steps", 0L);
    if (steps > 0 && root.has("local_epochs") && root.get("local_epochs").asInt() != 1) {
      throw new InvalidJobSpecException("local_steps", "give local_epochs or local_steps, not both (local_steps "
          + "counts minibatch steps per round across as many passes as they take)");
    }
    return steps;
  }

  /**
   * {@code model_selection: {metric: eval_c_index, patience: 5}}: mode defaults to min for a loss and
   * max otherwise; without the block, accuracy (C-index for survival) and no early stop.
   */
  private static ModelSelection selection(JsonNode node, ModelSpec model) {
    if (node == null || node.isNull()) {
      return ModelSelection.defaultFor(model);
    }
    requireObject("model_selection", node);
    checkKnown("model_selection.", node, SELECTION_FIELDS);
    String metric = node.path("metric").asText(ModelSelection.defaultFor(model).metric());
    boolean maximize = switch (node.path("mode").asText(ModelSelection.maximizedByDefault(metric) ? "max" : "min")) {
      case "max" -> true;
      case "min" -> false;
      default -> throw new InvalidJobSpecException("model_selection.mode", "must be max or min, got '"
          + node.path("mode").asText() + "'");
    };
    return new ModelSelection(metric, maximize, (int) integer(node, "patience", 0L), number(node, "min_delta", 0.0));
  }

  /**
   * {@code strategy: fedavg}, or {@code strategy: {name: fedadam, server_learning_rate: 0.05}}; fields
   * the named strategy does not take are refused by {@link StrategySpec}, naming them.
   */
  private static StrategySpec strategy(JsonNode node) {
    if (node == null || node.isNull()) {
      return StrategySpec.fedAvg();
    }
    if (node.isTextual()) {
      return StrategySpec.of(enumValue("strategy", node.asText(), StrategyName.class));
    }
    requireObject("strategy", node);
    checkKnown("strategy.", node, STRATEGY_FIELDS);
    StrategyName name = enumValue("strategy.name", requiredText(node, "name"), StrategyName.class);
    Map<StrategyParameter, Double> given = new EnumMap<>(StrategyParameter.class);
    for (StrategyParameter parameter : StrategyParameter.values()) {
      JsonNode value = node.get(parameter.field());
      if (value == null || value.isNull()) {
        continue;
      }
      if (!value.isNumber() || parameter.integral() && !value.isIntegralNumber()) {
        throw new InvalidJobSpecException("strategy." + parameter.field(), "must be "
            + (parameter.integral() ? "an integer" : "a number") + ", got " + value);
      }
      if (!name.takes().contains(parameter) && Double.valueOf(value.asDouble()).equals(NEUTRAL.get(parameter))) {
        continue;
      }
      given.put(parameter, value.asDouble());
    }
    return new StrategySpec(name, given);
  }

  private static Set<String> strategyFields() {
    Set<String> fields = new TreeSet<>(Set.of("name"));
    Arrays.stream(StrategyParameter.values()).map(StrategyParameter::field).forEach(fields::add);
    return Set.copyOf(fields);
  }

  private static long[] shape(JsonNode node) {
    if (node == null || !node.isArray() || node.isEmpty()) {
      throw new InvalidJobSpecException("input_shape", "missing; give [features], [channels, height, width] or [channels, depth, height, width]");
    }
    long[] shape = new long[node.size()];
    for (int i = 0; i < shape.length; i++) {
      if (!node.get(i).isIntegralNumber()) {
        throw new InvalidJobSpecException("input_shape", "dimensions must be integers, got " + node);
      }
      shape[i] = node.get(i).asLong();
    }
    return shape;
  }

  private static String requiredText(JsonNode root, String field) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      throw new InvalidJobSpecException(field, "missing");
    }
    if (!node.isTextual()) {
      throw new InvalidJobSpecException(field, "must be text, got " + node);
    }
    return node.asText();
  }

  private static List<String> features(JsonNode node) {
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isArray() || node.isEmpty()) {
      throw new InvalidJobSpecException("features", "must be a non-empty list of feature ids (gene or probe ids,"
          + " variable names) in input order");
    }
    List<String> features = new ArrayList<>();
    for (JsonNode feature : node) {
      if (!feature.isTextual() || feature.asText().isBlank()) {
        throw new InvalidJobSpecException("features", "every entry must be a non-empty id, got " + feature);
      }
      features.add(feature.asText().trim());
    }
    return features;
  }

  private static long integer(JsonNode root, String field, Long fallback) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      if (fallback == null) {
        throw new InvalidJobSpecException(field, "missing");
      }
      return fallback;
    }
    if (!node.isIntegralNumber()) {
      throw new InvalidJobSpecException(field, "must be an integer, got " + node);
    }
    return node.asLong();
  }

  private static boolean bool(JsonNode root, String field, boolean fallback) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.isBoolean()) {
      throw new InvalidJobSpecException(field, "must be true or false, got " + node);
    }
    return node.asBoolean();
  }

  private static double number(JsonNode root, String field, double fallback) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.isNumber()) {
      throw new InvalidJobSpecException(field, "must be a number, got " + node);
    }
    return node.asDouble();
  }

  private static Duration duration(JsonNode parent, String field, Duration fallback) {
    JsonNode node = parent.get(field.substring(field.indexOf('.') + 1));
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (node.isIntegralNumber()) {
      return Duration.ofSeconds(node.asLong());
    }
    Matcher m = DURATION.matcher(node.asText().trim());
    if (!m.matches()) {
      throw new InvalidJobSpecException(field, "'" + node.asText() + "' is not a duration such as 90s, 5m or 1h");
    }
    long amount = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(amount);
      case "s" -> Duration.ofSeconds(amount);
      case "m" -> Duration.ofMinutes(amount);
      default -> Duration.ofHours(amount);
    };
  }

  private static <E extends Enum<E>> E enumValue(String field, String value, Class<E> type) {
    try {
      return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      List<String> allowed = Arrays.stream(type.getEnumConstants())
          .map(c -> c.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList();
      throw new InvalidJobSpecException(field, "'" + value + "' is not one of " + allowed);
    }
  }

  private static void requireObject(String field, JsonNode node) {
    if (!node.isObject()) {
      throw new InvalidJobSpecException(field, "must be a mapping, got " + node);
    }
  }

  private static void checkKnown(String prefix, JsonNode node, Set<String> known) {
    node.fieldNames().forEachRemaining(name -> {
      if (!known.contains(name)) {
        throw new InvalidJobSpecException(prefix + name, "unknown field; known fields are " + new TreeSet<>(known));
      }
    });
  }

  private static String locationOf(JsonProcessingException e) {
    return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
        + e.getLocation().getColumnNr() + ")";
  }
}
