package org.medfed.coordinator.job;

import static org.medfed.coordinator.job.JobField.Approval.coordinatorOnly;
import static org.medfed.coordinator.job.JobField.Approval.digest;
import static org.medfed.coordinator.job.JobField.Approval.digestWhen;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.medfed.coordinator.job.JobField.Approval;
import org.medfed.coordinator.job.JobField.Type;
import org.medfed.coordinator.job.JobField.Valid;

/**
 * The job document's schema, declared once: every field with its type, default, valid values, and
 * whether the hospitals' approval digest covers it. {@link JobSpecParser} reads and writes fields
 * through these rows, the spec records check values with them, and {@code JobSchemaTest} proves each
 * row's approval claim against the digest {@link JobTerms} computes. docs/jobs.md prints the table.
 *
 * <p>Adding a field: add its row here (the parser refuses a key no row declares), read it in the
 * parser, and say what the digest does with it; the test fails until a non-default value of the
 * field moves the digest or the row explains why it need not.
 */
public final class JobSchema {
  private static final List<JobField> ROWS = new ArrayList<>();

  private static final String MODEL_CONFIG = "TrainingPlan.model_config_json";
  private static final String PARAMETERS = "TrainingPlan.parameter_count";
  private static final String WAITS = "how long the coordinator waits for the hospitals; nothing they run changes";
  private static final String WHEN_SECURE = "when secure aggregation is on; a job without it sends no such setting";

  public static final JobField NAME = row("name", Type.TEXT, null, "required",
      Valid.matching("[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}", "1-100 letters, digits, spaces, '.', '_' or '-'"),
      coordinatorOnly("a label for people: hospitals approve what runs, not what it is called"));
  public static final JobField DATASET = row("dataset", Type.TEXT, null, "required",
      Valid.matching("(?s).*\\S.*", "the name of a dataset the hospitals declared"), digest("JobDigest.dataset"));

  public static final JobField MODEL = group("model", "required: architecture or dl4j_json");
  public static final JobField MODEL_ARCHITECTURE = row("model.architecture", Type.CHOICE, null,
      "none: give architecture or dl4j_json", Valid.ANY, digest(MODEL_CONFIG, PARAMETERS));
  public static final JobField MODEL_HIDDEN = row("model.hidden", Type.INTEGER_LIST, List.of(),
      "the architecture's own layer sizes", new Valid("a list of layer sizes >= 1",
          v -> ((List<?>) v).stream().allMatch(units -> ((Number) units).longValue() >= 1)),
      digest(MODEL_CONFIG, PARAMETERS));
  public static final JobField MODEL_DL4J_JSON = row("model.dl4j_json", Type.JSON, null,
      "none: give architecture or dl4j_json", Valid.matching("(?s).*\\S.*", "a DL4J MultiLayerConfiguration"),
      digest(MODEL_CONFIG, PARAMETERS));

  public static final JobField INPUT_SHAPE = row("input_shape", Type.INTEGER_LIST, null, "required",
      new Valid("[features], [channels, height, width] or [channels, depth, height, width] of positive sizes",
          v -> !((List<?>) v).isEmpty() && ((List<?>) v).stream().allMatch(d -> ((Number) d).longValue() > 0)),
      digest("TrainingPlan.input_shape", MODEL_CONFIG));
  public static final JobField NUM_CLASSES = row("num_classes", Type.INTEGER, null,
      "required; left out for a cox model", Valid.ANY, digest("TrainingPlan.num_classes", MODEL_CONFIG));
  public static final JobField FEATURES = row("features", Type.TEXT_LIST, List.of(),
      "none: inputs are positional", new Valid("a non-empty list of distinct, non-empty feature ids",
          v -> !((List<?>) v).isEmpty() && ((List<?>) v).stream().distinct().count() == ((List<?>) v).size()),
      digest("TrainingPlan.feature_names"));

  public static final JobField ROUNDS = row("rounds", Type.INTEGER, null, "required", Valid.between(1, 100_000),
      digestWhen("with privacy.dp_sgd, where the rounds set each hospital's noise and spend; without it each round is"
          + " a task a hospital may decline, so their number needs no approval", "PrivacySettings.dp_rounds"));
  public static final JobField MIN_NODES = row("min_nodes", Type.INTEGER, 2L, "2", Valid.atLeast(1),
      coordinatorOnly("how many hospitals a round waits for; each still decides whether to take part"));
  public static final JobField FRACTION = row("fraction", Type.NUMBER, 1.0, "1.0",
      Valid.number("in (0, 1]", v -> v > 0 && v <= 1), coordinatorOnly("which of the connected hospitals a round asks"));
  public static final JobField LOCAL_EPOCHS = row("local_epochs", Type.INTEGER, 1L, "1", Valid.between(1, 1000),
      digest("TrainingPlan.local_epochs"));
  public static final JobField LOCAL_STEPS = row("local_steps", Type.INTEGER, 0L, "0: local_epochs passes",
      Valid.whole("in 0..1000000 (0: train local_epochs passes)", v -> v >= 0 && v <= 1_000_000),
      digest("TrainingPlan.local_steps"));
  public static final JobField BATCH_SIZE = row("batch_size", Type.INTEGER, 32L, "32", Valid.atLeast(1),
      digest("TrainingPlan.batch_size"));
  public static final JobField LEARNING_RATE = row("learning_rate", Type.NUMBER, 0.001, "0.001",
      Valid.number("in (0, 10)", v -> v > 0 && v < 10), digest("TrainingPlan.learning_rate", MODEL_CONFIG));
  public static final JobField OPTIMIZER = row("optimizer", Type.CHOICE, "adam", "adam", Valid.ANY,
      digest(MODEL_CONFIG));
  /**
   * The digest leaves TrainingPlan.seed out, but DL4J writes the seed into the model configuration,
   * which it covers: JobSchemaTest found that a new seed moves the digest, so it needs a new approval.
   */
  public static final JobField SEED = row("seed", Type.INTEGER, 42L, "42", Valid.ANY,
      new Approval(List.of(MODEL_CONFIG), List.of("TrainingPlan.seed"), "through the DL4J model configuration, which"
          + " holds the seed; TrainingPlan.seed itself is left out"));
  public static final JobField LOCAL_BASELINE = row("local_baseline", Type.BOOLEAN, false, "false", Valid.ANY,
      digest("TrainingPlan.local_baseline"));
  public static final JobField FEATURE_SCALING = row("feature_scaling", Type.CHOICE, "none", "none", Valid.ANY,
      digest("TrainingPlan.consortium_zscore"));

  public static final JobField DEADLINES = group("deadlines", "each stage's default");
  public static final JobField DEADLINE_SELECTION = row("deadlines.selection", Type.DURATION, Duration.ofMinutes(2),
      "2m", Valid.positiveDuration(), coordinatorOnly(WAITS));
  public static final JobField DEADLINE_TRAINING = row("deadlines.training", Type.DURATION, Duration.ofMinutes(10),
      "10m", Valid.positiveDuration(), coordinatorOnly(WAITS));
  public static final JobField DEADLINE_EVALUATION = row("deadlines.evaluation", Type.DURATION,
      Duration.ofMinutes(5), "5m", Valid.positiveDuration(), coordinatorOnly(WAITS));
  public static final JobField ROUND_RETRIES = row("round_retries", Type.INTEGER, 0L, "0", Valid.between(0, 100),
      coordinatorOnly("a retried round is a new task, which each hospital may decline"));

  public static final JobField MODEL_SELECTION = group("model_selection", "accuracy (C-index for cox), no early stop");
  public static final JobField SELECTION_METRIC = row("model_selection.metric", Type.TEXT, null,
      "eval_accuracy; eval_c_index for cox", Valid.matching("eval_[a-z0-9_]+",
          "an evaluation metric such as eval_accuracy, eval_c_index or eval_loss"),
      coordinatorOnly("which round's model the coordinator keeps"));
  public static final JobField SELECTION_MODE = row("model_selection.mode", Type.TEXT, null,
      "min for a loss, max otherwise", Valid.matching("max|min", "max or min"),
      coordinatorOnly("which round's model the coordinator keeps"));
  public static final JobField SELECTION_PATIENCE = row("model_selection.patience", Type.INTEGER, 0L,
      "0: never stop early", Valid.whole("in 0..100000 (0: never stop early)", v -> v >= 0 && v <= 100_000),
      coordinatorOnly("when the coordinator stops asking for rounds; it can only ask for fewer"));
  public static final JobField SELECTION_MIN_DELTA = row("model_selection.min_delta", Type.NUMBER, 0.0, "0",
      Valid.number("a finite number >= 0", v -> v >= 0), coordinatorOnly("which round's model the coordinator keeps"));

  public static final JobField STRATEGY = row("strategy", Type.TEXT_OR_MAPPING, "fedavg", "fedavg", Valid.ANY,
      digestWhen("for strategies that change the hospitals' training: fedprox's proximal term, scaffold's control"
          + " variates; a server-side rule (fedavgm, the FedOpt family, the robust rules) leaves the hospitals' work"
          + " and what leaves them unchanged", "TrainingPlan.proximal_mu", "TrainingPlan.extra_vectors"));
  public static final JobField STRATEGY_NAME = row("strategy.name", Type.CHOICE, null, "required in the mapping",
      Valid.ANY, STRATEGY.approval());
  /** One row per {@link StrategyParameter}, which declares its range; the strategy declares its default. */
  public static final Map<StrategyParameter, JobField> STRATEGY_PARAMETERS = Arrays.stream(StrategyParameter.values())
      .collect(Collectors.toUnmodifiableMap(Function.identity(), p -> row("strategy." + p.field(),
          p.integral() ? Type.INTEGER : Type.NUMBER, null, "the strategy's (docs/strategies.md)",
          new Valid(p.range(), v -> p.accepts(((Number) v).doubleValue())),
          p == StrategyParameter.PROXIMAL_MU ? digest("TrainingPlan.proximal_mu")
              : coordinatorOnly("a server-side step on the aggregate; the hospitals' work is unchanged"))));

  public static final JobField SECURE_AGGREGATION = row("secure_aggregation", Type.BOOLEAN_OR_MAPPING, true,
      "true, with the defaults below", Valid.ANY, digest("PrivacySettings.secure_aggregation"));
  public static final JobField SECAGG_ENABLED = row("secure_aggregation.enabled", Type.BOOLEAN, true, "true",
      Valid.ANY, digest("PrivacySettings.secure_aggregation"));
  public static final JobField SECAGG_CLIP = row("secure_aggregation.clip", Type.NUMBER, 1.0, "1.0",
      Valid.number("in (0, 1e6]", v -> v > 0 && v <= 1e6), digestWhen(WHEN_SECURE, "PrivacySettings.clip"));
  public static final JobField SECAGG_MAX_SAMPLES = row("secure_aggregation.max_samples_per_node", Type.INTEGER,
      100_000L, "100000", Valid.atLeast(1), digestWhen(WHEN_SECURE, "PrivacySettings.max_samples_per_node"));
  public static final JobField SECAGG_STAGE_DEADLINE = row("secure_aggregation.stage_deadline", Type.DURATION,
      Duration.ofMinutes(1), "1m", Valid.positiveDuration(), coordinatorOnly(WAITS));
  public static final JobField SECAGG_NEIGHBOURS = row("secure_aggregation.neighbours", Type.INTEGER, 0L,
      "0: every pair masks", Valid.whole("0 (every pair masks) or an even number in 2..254",
          v -> v == 0 || v >= 2 && v <= 254 && v % 2 == 0),
      digestWhen(WHEN_SECURE, "PrivacySettings.masking_neighbours"));

  public static final JobField PRIVACY = group("privacy", "none");
  public static final JobField DP_SGD = group("privacy.dp_sgd", "off");
  public static final JobField DP_CLIP = row("privacy.dp_sgd.clip", Type.NUMBER, 1.0, "1.0",
      Valid.number("in (0, 1e6]", v -> v > 0 && v <= 1e6), digest("PrivacySettings.dp_clip"));
  public static final JobField DP_EPSILON = row("privacy.dp_sgd.epsilon", Type.NUMBER, null,
      "none: give epsilon or noise_multiplier", Valid.number("in (0, 1000]", v -> v > 0 && v <= 1e3),
      digest("PrivacySettings.dp_target_epsilon"));
  public static final JobField DP_NOISE_MULTIPLIER = row("privacy.dp_sgd.noise_multiplier", Type.NUMBER, null,
      "none: give epsilon or noise_multiplier", Valid.number("in (0, 10000]", v -> v > 0 && v <= 1e4),
      digest("PrivacySettings.dp_noise_multiplier"));
  public static final JobField DP_DELTA = row("privacy.dp_sgd.delta", Type.NUMBER, 1e-5, "1e-5",
      Valid.number("in (0, 0.01), well below 1 / records", v -> v > 0 && v < 0.01), digest("PrivacySettings.dp_delta"));

  private JobSchema() {}

  /** Every row, in declaration order. */
  public static List<JobField> fields() {
    return Collections.unmodifiableList(ROWS);
  }

  /** The keys a mapping at {@code parent} ("" for the document) may hold. */
  public static Set<String> keysUnder(String parent) {
    return ROWS.stream().filter(f -> f.parent().equals(parent)).map(JobField::key)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** @throws InvalidJobSpecException naming {@code parent.key} for the first key no row declares */
  static void checkKnown(String parent, JsonNode node) {
    Set<String> known = keysUnder(parent);
    node.fieldNames().forEachRemaining(key -> {
      if (!known.contains(key)) {
        throw new InvalidJobSpecException(parent.isEmpty() ? key : parent + "." + key,
            "unknown field; known fields are " + known);
      }
    });
  }

  /**
   * The schema as a Markdown table (docs/jobs.md holds it; a test keeps the two equal): field,
   * type, default, valid values, and what the approval digest does with it.
   */
  public static String markdownTable() {
    StringBuilder table = new StringBuilder("| field | type | default | valid | hospitals' approval digest |\n"
        + "|---|---|---|---|---|\n");
    for (JobField field : ROWS) {
      Approval approval = field.approval();
      String digest = field.type() == Type.MAPPING ? "by its fields"
          : !approval.covered() ? "not covered: " + approval.why()
          : "covered by " + approval.covers().stream().map(w -> "`" + w + "`").collect(Collectors.joining(", "))
              + (approval.why().isEmpty() ? "" : ", " + approval.why());
      table.append("| `").append(field.path()).append("` | ")
          .append(field.type().name().toLowerCase(Locale.ROOT).replace('_', ' ')).append(" | ")
          .append(field.defaultText()).append(" | ")
          .append(field.valid() == Valid.ANY ? "" : field.valid().text().replace("|", "\\|")).append(" | ")
          .append(digest.replace("|", "\\|")).append(" |\n");
    }
    return table.toString();
  }

  private static JobField row(String path, Type type, Object fallback, String defaultText, Valid valid,
      Approval approval) {
    JobField field = new JobField(path, type, fallback, defaultText, valid, approval);
    ROWS.add(field);
    return field;
  }

  private static JobField group(String path, String defaultText) {
    return row(path, Type.MAPPING, null, defaultText, Valid.ANY,
        coordinatorOnly("a mapping: each of its fields states its own"));
  }
}
