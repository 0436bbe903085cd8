package org.medfed.coordinator.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

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
  /**
   * Coordinators before issue 13 wrote these neutral values into every fedavg job's stored JSON;
   * they are dropped where the strategy takes no such field, so those jobs still load on restart.
   */
  private static final Map<StrategyParameter, Double> NEUTRAL = Map.of(
      StrategyParameter.SERVER_LEARNING_RATE, 1.0, StrategyParameter.SERVER_MOMENTUM, 0.0);
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
    JobSchema.checkKnown("", root);
    JsonNode deadlines = mapping(root, JobSchema.DEADLINES);
    ModelSpec model = model(root.get("model"));
    return new JobSpec(
        JobSchema.NAME.text(root),
        JobSchema.DATASET.text(root),
        model,
        shape(root),
        // A survival model predicts a risk score, not one of num_classes classes.
        model.survival() && !JobSchema.NUM_CLASSES.presentIn(root) ? 0 : (int) JobSchema.NUM_CLASSES.integer(root),
        (int) JobSchema.ROUNDS.integer(root),
        (int) JobSchema.MIN_NODES.integer(root),
        JobSchema.FRACTION.number(root),
        (int) JobSchema.LOCAL_EPOCHS.integer(root),
        (int) JobSchema.BATCH_SIZE.integer(root),
        JobSchema.LEARNING_RATE.number(root),
        JobSchema.SEED.integer(root),
        new StageDeadlines(
            JobSchema.DEADLINE_SELECTION.duration(deadlines),
            JobSchema.DEADLINE_TRAINING.duration(deadlines),
            JobSchema.DEADLINE_EVALUATION.duration(deadlines)),
        strategy(root),
        JobSchema.OPTIMIZER.choice(root, Optimizer.class),
        secureAggregation(root),
        features(root),
        (int) JobSchema.ROUND_RETRIES.integer(root),
        selection(root, model),
        localSteps(root),
        dpSgd(root),
        JobSchema.LOCAL_BASELINE.bool(root),
        JobSchema.FEATURE_SCALING.choice(root, FeatureScaling.class));
  }

  /** The spec as canonical JSON: shown back to users and checkpointed beside the model. */
  public static String toJson(JobSpec spec) {
    ObjectNode root = JSON.createObjectNode();
    JobSchema.NAME.write(root, spec.name());
    JobSchema.DATASET.write(root, spec.dataset());
    ObjectNode model = root.putObject(JobSchema.MODEL.key());
    if (spec.model() instanceof ModelSpec.BuiltIn b) {
      JobSchema.MODEL_ARCHITECTURE.write(model, b.architecture());
      ArrayNode hidden = model.putArray(JobSchema.MODEL_HIDDEN.key());
      b.hiddenUnits().forEach(hidden::add);
    } else if (spec.model() instanceof ModelSpec.Dl4jJson j) {
      JobSchema.MODEL_DL4J_JSON.write(model, j.json());
    }
    ArrayNode shape = root.putArray(JobSchema.INPUT_SHAPE.key());
    Arrays.stream(spec.inputShape()).forEach(shape::add);
    JobSchema.NUM_CLASSES.write(root, spec.numClasses());
    JobSchema.ROUNDS.write(root, spec.rounds());
    JobSchema.MIN_NODES.write(root, spec.minNodes());
    JobSchema.FRACTION.write(root, spec.fractionPerRound());
    JobSchema.LOCAL_EPOCHS.write(root, spec.localEpochs());
    if (spec.localSteps() > 0) {
      JobSchema.LOCAL_STEPS.write(root, spec.localSteps());
    }
    if (spec.localBaseline()) {
      JobSchema.LOCAL_BASELINE.write(root, true);
    }
    if (spec.featureScaling() != FeatureScaling.NONE) {
      JobSchema.FEATURE_SCALING.write(root, spec.featureScaling());
    }
    spec.dpSgd().ifPresent(dp -> {
      ObjectNode node = root.putObject(JobSchema.PRIVACY.key()).putObject(JobSchema.DP_SGD.key());
      JobSchema.DP_CLIP.write(node, dp.clip());
      dp.targetEpsilon().ifPresent(e -> JobSchema.DP_EPSILON.write(node, e));
      dp.noiseMultiplier().ifPresent(s -> JobSchema.DP_NOISE_MULTIPLIER.write(node, s));
      JobSchema.DP_DELTA.write(node, dp.delta());
    });
    JobSchema.BATCH_SIZE.write(root, spec.batchSize());
    JobSchema.LEARNING_RATE.write(root, spec.learningRate());
    JobSchema.SEED.write(root, spec.seed());
    ObjectNode deadlines = root.putObject(JobSchema.DEADLINES.key());
    JobSchema.DEADLINE_SELECTION.write(deadlines, spec.deadlines().selection());
    JobSchema.DEADLINE_TRAINING.write(deadlines, spec.deadlines().training());
    JobSchema.DEADLINE_EVALUATION.write(deadlines, spec.deadlines().evaluation());
    JobSchema.ROUND_RETRIES.write(root, spec.roundRetries());
    ObjectNode selection = root.putObject(JobSchema.MODEL_SELECTION.key());
    JobSchema.SELECTION_METRIC.write(selection, spec.selection().metric());
    JobSchema.SELECTION_MODE.write(selection, spec.selection().maximize() ? "max" : "min");
    JobSchema.SELECTION_PATIENCE.write(selection, spec.selection().patience());
    JobSchema.SELECTION_MIN_DELTA.write(selection, spec.selection().minDelta());
    ObjectNode strategy = root.putObject(JobSchema.STRATEGY.key());
    JobSchema.STRATEGY_NAME.write(strategy, spec.strategy().name());
    spec.strategy().parameters().forEach((parameter, value) -> JobSchema.STRATEGY_PARAMETERS.get(parameter)
        .write(strategy, parameter.integral() ? (Object) value.longValue() : value));
    JobSchema.OPTIMIZER.write(root, spec.optimizer());
    if (!spec.features().isEmpty()) {
      ArrayNode features = root.putArray(JobSchema.FEATURES.key());
      spec.features().forEach(features::add);
    }
    ObjectNode secure = root.putObject(JobSchema.SECURE_AGGREGATION.key());
    SecureAggregationSpec secureAggregation = spec.secureAggregation();
    JobSchema.SECAGG_ENABLED.write(secure, secureAggregation.enabled());
    JobSchema.SECAGG_CLIP.write(secure, secureAggregation.clip());
    JobSchema.SECAGG_MAX_SAMPLES.write(secure, secureAggregation.maxSamplesPerNode());
    JobSchema.SECAGG_STAGE_DEADLINE.write(secure, secureAggregation.stageDeadline());
    JobSchema.SECAGG_NEIGHBOURS.write(secure, secureAggregation.neighbours());
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
    requireObject(JobSchema.MODEL, node);
    JobSchema.checkKnown(JobSchema.MODEL.path(), node);
    boolean builtIn = JobSchema.MODEL_ARCHITECTURE.presentIn(node);
    boolean custom = JobSchema.MODEL_DL4J_JSON.presentIn(node);
    if (builtIn == custom) {
      throw new InvalidJobSpecException("model", "give exactly one of 'architecture' or 'dl4j_json'");
    }
    if (custom) {
      JsonNode json = JobSchema.MODEL_DL4J_JSON.node(node);
      return new ModelSpec.Dl4jJson(json.isTextual() ? json.asText() : json.toString());
    }
    ModelSpec.Architecture architecture = JobSchema.MODEL_ARCHITECTURE.choice(node, ModelSpec.Architecture.class);
    return new ModelSpec.BuiltIn(architecture, integers(node, JobSchema.MODEL_HIDDEN).stream()
        .map(Long::intValue).toList());
  }

  /** {@code secure_aggregation: false}, or a mapping of its settings; absent means on with defaults. */
  private static SecureAggregationSpec secureAggregation(JsonNode root) {
    JsonNode node = JobSchema.SECURE_AGGREGATION.node(root);
    if (node == null) {
      return SecureAggregationSpec.defaults();
    }
    if (node.isBoolean()) {
      return JobSchema.SECURE_AGGREGATION.bool(root) ? SecureAggregationSpec.defaults() : SecureAggregationSpec.off();
    }
    if (!node.isObject()) {
      throw new InvalidJobSpecException("secure_aggregation", "must be true, false or a mapping, got " + node);
    }
    JobSchema.checkKnown(JobSchema.SECURE_AGGREGATION.path(), node);
    return new SecureAggregationSpec(JobSchema.SECAGG_ENABLED.bool(node),
        JobSchema.SECAGG_CLIP.number(node),
        JobSchema.SECAGG_MAX_SAMPLES.integer(node),
        JobSchema.SECAGG_STAGE_DEADLINE.duration(node),
        (int) JobSchema.SECAGG_NEIGHBOURS.integer(node));
  }

  /** {@code privacy: {dp_sgd: {epsilon: 3, delta: 1e-5, clip: 1.0}}}, or noise_multiplier instead of epsilon. */
  private static Optional<DpSgdSpec> dpSgd(JsonNode root) {
    JsonNode privacy = mapping(root, JobSchema.PRIVACY);
    JsonNode node = JobSchema.DP_SGD.node(privacy);
    if (node == null) {
      return Optional.empty();
    }
    node = mapping(privacy, JobSchema.DP_SGD);
    return Optional.of(new DpSgdSpec(JobSchema.DP_CLIP.number(node),
        optionalNumber(node, JobSchema.DP_NOISE_MULTIPLIER),
        optionalNumber(node, JobSchema.DP_EPSILON),
        JobSchema.DP_DELTA.number(node)));
  }

  /** {@code local_steps: 100} replaces local_epochs; a document that gives both is ambiguous. */
  private static int localSteps(JsonNode root) {
    int steps = (int) JobSchema.LOCAL_STEPS.integer(root);
    if (steps > 0 && JobSchema.LOCAL_EPOCHS.presentIn(root) && JobSchema.LOCAL_EPOCHS.integer(root) != 1) {
      throw new InvalidJobSpecException("local_steps", "give local_epochs or local_steps, not both (local_steps "
          + "counts minibatch steps per round across as many passes as they take)");
    }
    return steps;
  }

  /**
   * {@code model_selection: {metric: eval_c_index, patience: 5}}: mode defaults to min for a loss and
   * max otherwise; without the block, accuracy (C-index for survival) and no early stop.
   */
  private static ModelSelection selection(JsonNode root, ModelSpec model) {
    if (!JobSchema.MODEL_SELECTION.presentIn(root)) {
      return ModelSelection.defaultFor(model);
    }
    JsonNode node = mapping(root, JobSchema.MODEL_SELECTION);
    String metric = JobSchema.SELECTION_METRIC.presentIn(node) ? JobSchema.SELECTION_METRIC.text(node)
        : ModelSelection.defaultFor(model).metric();
    boolean maximize = JobSchema.SELECTION_MODE.presentIn(node) ? JobSchema.SELECTION_MODE.text(node).equals("max")
        : ModelSelection.maximizedByDefault(metric);
    return new ModelSelection(metric, maximize, (int) JobSchema.SELECTION_PATIENCE.integer(node),
        JobSchema.SELECTION_MIN_DELTA.number(node));
  }

  /**
   * {@code strategy: fedavg}, or {@code strategy: {name: fedadam, server_learning_rate: 0.05}}; fields
   * the named strategy does not take are refused by {@link StrategySpec}, naming them.
   */
  private static StrategySpec strategy(JsonNode root) {
    JsonNode node = JobSchema.STRATEGY.node(root);
    if (node == null || node.isTextual()) {
      return StrategySpec.of(JobSchema.STRATEGY.choice(root, StrategyName.class));
    }
    requireObject(JobSchema.STRATEGY, node);
    JobSchema.checkKnown(JobSchema.STRATEGY.path(), node);
    StrategyName name = JobSchema.STRATEGY_NAME.choice(node, StrategyName.class);
    Map<StrategyParameter, Double> given = new EnumMap<>(StrategyParameter.class);
    for (StrategyParameter parameter : StrategyParameter.values()) {
      JobField field = JobSchema.STRATEGY_PARAMETERS.get(parameter);
      JsonNode value = field.node(node);
      if (value == null) {
        continue;
      }
      if (!value.isNumber() || parameter.integral() && !value.isIntegralNumber()) {
        throw new InvalidJobSpecException(field.path(), "must be "
            + (parameter.integral() ? "an integer" : "a number") + ", got " + value);
      }
      if (!name.takes().contains(parameter) && Double.valueOf(value.asDouble()).equals(NEUTRAL.get(parameter))) {
        continue;
      }
      given.put(parameter, value.asDouble());
    }
    return new StrategySpec(name, given);
  }

  private static long[] shape(JsonNode root) {
    JsonNode node = JobSchema.INPUT_SHAPE.node(root);
    if (node == null || !node.isArray() || node.isEmpty()) {
      throw new InvalidJobSpecException("input_shape", "missing; give [features], [channels, height, width] or [channels, depth, height, width]");
    }
    return integers(root, JobSchema.INPUT_SHAPE).stream().mapToLong(Long::longValue).toArray();
  }

  private static List<String> features(JsonNode root) {
    JsonNode node = JobSchema.FEATURES.node(root);
    if (node == null) {
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

  /** A list of integers, or the field's default when absent. */
  private static List<Long> integers(JsonNode parent, JobField field) {
    JsonNode node = field.node(parent);
    if (node == null) {
      return List.of();
    }
    if (!node.isArray()) {
      throw new InvalidJobSpecException(field.path(), "must be a list of integers, got " + node);
    }
    List<Long> values = new ArrayList<>();
    for (JsonNode value : node) {
      if (!value.isIntegralNumber()) {
        throw new InvalidJobSpecException(field.path(), "must be a list of integers, got " + node);
      }
      values.add(value.asLong());
    }
    return values;
  }

  private static OptionalDouble optionalNumber(JsonNode parent, JobField field) {
    return field.presentIn(parent) ? OptionalDouble.of(field.number(parent)) : OptionalDouble.empty();
  }

  /** The mapping at {@code field} in {@code parent}, its keys checked; an empty mapping when absent. */
  private static JsonNode mapping(JsonNode parent, JobField field) {
    JsonNode node = field.node(parent);
    if (node == null) {
      return JSON.createObjectNode();
    }
    requireObject(field, node);
    JobSchema.checkKnown(field.path(), node);
    return node;
  }

  private static void requireObject(JobField field, JsonNode node) {
    if (!node.isObject()) {
      throw new InvalidJobSpecException(field.path(), "must be a mapping, got " + node);
    }
  }

  private static String locationOf(JsonProcessingException e) {
    return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
        + e.getLocation().getColumnNr() + ")";
  }
}
