package org.medfed.nodeagent.session;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.DicomWindow;
import org.medfed.nodeagent.data.ImagePreprocessing;
import org.medfed.nodeagent.data.MissingFeatures;
import org.medfed.nodeagent.data.Normalisation;
import org.medfed.nodeagent.data.OmopMapping;
import org.medfed.nodeagent.data.VolumePreprocessing;
import org.medfed.nodeagent.privacy.PrivacyBudget;
import org.medfed.nodeagent.training.TrainerChoice;
import org.medfed.nodeagent.training.Trainers;
import org.medfed.trust.config.YamlConfig;
import org.medfed.trust.tls.CoordinatorAddress;
import org.medfed.trust.tls.TlsFiles;

/**
 * Reads an agent configuration file (YAML). Relative dataset locations resolve against the file's
 * folder. Errors name the file and the field.
 *
 * <pre>
 * node_id: hospital-a
 * coordinator: localhost:7443  # or [coord-a:7443, coord-b:7443]: the active one and its standbys, in order
 * tls: {certificate: hospital-a.crt, private_key: hospital-a.key, ca: ca.crt}
 * state_dir: state              # approvals and the audit log
 * auto_approve_jobs: false      # true only for demos
 * metrics: {bind: 127.0.0.1, port: 9464}   # Prometheus /metrics; off unless given
 * max_concurrent_tasks: 1       # tasks of different jobs run side by side (default 1)
 * datasets:
 *   - name: scans
 *     kind: imaging
 *     format: image_folders
 *     location: data/scans
 *     classes: [normal, nodule]
 *     privacy_budget: {epsilon: 8, delta: 1.0e-5, per: 365d}   # what DP jobs may spend on it together
 *   - name: diabetes
 *     kind: clinical
 *     format: fhir                # a folder of FHIR R4 Bundles / NDJSON; FhirMappingConfig reads the mapping
 *     location: data/fhir
 *     classes: [no, yes]
 *     mapping: {index_date: 2024-01-01, window: 365d, features: [...], label: {condition: snomed|44054006}}
 *   - name: diabetes-omop
 *     kind: clinical
 *     format: omop                # an OMOP CDM v5.4 database, no location; OmopMappingConfig reads both sections
 *     classes: [no, yes]
 *     database: {url: "jdbc:postgresql://omop-db:5432/cdm", user: medfed_reader, password_env: OMOP_PASSWORD,
 *                schema: cdm}         # the password never in this file
 *     mapping: {cohort: {query: "SELECT ..."}, window: 365d, features: [...]}
 * trainer: {kind: spark, master: "local[4,3]", partitions: 4}  # optional; default dl4j in this JVM
 * </pre>
 */
public final class AgentConfigLoader {
  private static final Set<String> TOP_LEVEL = Set.of("node_id", "coordinator", "datasets", "heartbeat_seconds", "tls",
      "insecure_plaintext", "state_dir", "auto_approve_jobs", "metrics", "max_concurrent_tasks", "trainer");
  private static final Set<String> DATASET_FIELDS = Set.of("name", "kind", "format", "location", "classes",
      "normalise", "missing_features", "orientation", "phenotypes", "label_column", "test_fraction", "split_seed",
      "window", "bad_rows", "resize", "channels", "privacy_budget", "intensity", "volume", "memory_share",
      "spacing", "mapping", "database");

  private AgentConfigLoader() {}

  public static AgentConfig load(Path file) {
    try {
      return parse(file, YamlConfig.read(file, TOP_LEVEL));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  private static AgentConfig parse(Path file, JsonNode root) {
    String nodeId = text(file, root, "node_id");
    List<CoordinatorAddress> coordinators = YamlConfig.coordinators(file, root);
    JsonNode datasetsNode = root.get("datasets");
    if (datasetsNode == null || !datasetsNode.isArray()) {
      throw new ConfigException(file + ": 'datasets' must be a list of dataset declarations");
    }
    List<DatasetDeclaration> datasets = new ArrayList<>();
    Path base = file.toAbsolutePath().getParent();
    Map<String, PrivacyBudget> budgets = new HashMap<>();
    for (int i = 0; i < datasetsNode.size(); i++) {
      DatasetDeclaration dataset = dataset(file, "datasets[" + i + "]", datasetsNode.get(i), base);
      datasets.add(dataset);
      JsonNode budget = datasetsNode.get(i).get("privacy_budget");
      if (budget != null) {
        budgets.put(dataset.name(), privacyBudget(file, "datasets[" + i + "].privacy_budget", budget));
      }
    }
    Duration heartbeat = Duration.ofSeconds(root.path("heartbeat_seconds").asLong(5));
    boolean plaintext = root.path("insecure_plaintext").asBoolean(false);
    if (plaintext == root.has("tls")) {
      throw new ConfigException(file + ": give a 'tls' section (certificate, private_key, ca from your startup kit)"
          + " or 'insecure_plaintext: true' for a development coordinator; not both, not neither");
    }
    Optional<TlsFiles> tls = plaintext ? Optional.empty() : Optional.of(YamlConfig.tlsFiles(file, root.get("tls")));
    Path stateDir = base.resolve(root.path("state_dir").asText("state")).normalize();
    boolean autoApprove = root.path("auto_approve_jobs").asBoolean(false);
    Optional<InetSocketAddress> metrics = Optional.empty();
    JsonNode metricsNode = root.get("metrics");
    if (metricsNode != null) {
      if (!metricsNode.isObject() || !metricsNode.path("port").canConvertToInt()) {
        throw new ConfigException(file + ": 'metrics' must be a mapping with port (and bind, default 127.0.0.1)");
      }
      YamlConfig.checkKnown(file, "metrics.", metricsNode, Set.of("bind", "port"));
      metrics = Optional.of(new InetSocketAddress(metricsNode.path("bind").asText("127.0.0.1"),
          metricsNode.get("port").asInt()));
    }
    JsonNode concurrent = root.path("max_concurrent_tasks");
    if (!concurrent.isMissingNode() && !concurrent.canConvertToInt()) {
      throw new ConfigException(file + ": max_concurrent_tasks must be a whole number, got '" + concurrent.asText()
          + "'");
    }
    try {
      return new AgentConfig(nodeId, coordinators, datasets, Backoff.defaults(), heartbeat,
          tls, stateDir, autoApprove, Optional.of(file), metrics, concurrent.asInt(1), budgets,
          trainer(file, root.get("trainer")));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + e.getMessage());
    }
  }

  /**
   * The {@code trainer} section: a kind and its settings, all scalars, e.g. {@code {kind: spark,
   * master: "local[4]"}}. Only the kind is checked here; {@link Trainers} checks the settings when
   * the agent starts, as only the kind's jar knows them.
   */
  private static TrainerChoice trainer(Path file, JsonNode node) {
    if (node == null) {
      return TrainerChoice.dl4j();
    }
    if (!node.isObject() || !node.path("kind").isTextual()) {
      throw new ConfigException(file + ": 'trainer' must be a mapping with a kind, e.g. {kind: spark, master:"
          + " \"local[4]\"}; leave it out to train with dl4j in the agent's JVM");
    }
    Map<String, String> settings = new HashMap<>();
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      if (!field.getValue().isValueNode()) {
        throw new ConfigException(file + ": trainer." + field.getKey() + " must be a single value, not a list or"
            + " mapping");
      }
      if (!field.getKey().equals("kind")) {
        settings.put(field.getKey(), field.getValue().asText());
      }
    }
    try {
      return new TrainerChoice(node.get("kind").asText(), settings);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": trainer.kind: " + e.getMessage());
    }
  }

  private static PrivacyBudget privacyBudget(Path file, String path, JsonNode node) {
    if (!node.isObject() || !node.path("epsilon").isNumber()) {
      throw new ConfigException(file + ": " + path + " must be a mapping with epsilon (and delta, default 1e-5; per,"
          + " default 365d), e.g. {epsilon: 8, delta: 1.0e-5, per: 365d}");
    }
    YamlConfig.checkKnown(file, path + ".", node, Set.of("epsilon", "delta", "per"));
    String per = node.path("per").asText("365d");
    Matcher days = Pattern.compile("(\\d+)\\s*d").matcher(per);
    if (!days.matches()) {
      throw new ConfigException(file + ": " + path + ".per must be a number of days such as 365d, got '" + per + "'");
    }
    try {
      return new PrivacyBudget(node.get("epsilon").asDouble(), node.path("delta").asDouble(1e-5),
          Duration.ofDays(Long.parseLong(days.group(1))));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + path + ": " + e.getMessage());
    }
  }

  private static DatasetDeclaration dataset(Path file, String path, JsonNode node, Path base) {
    if (!node.isObject()) {
      throw new ConfigException(file + ": " + path + " must be a mapping");
    }
    YamlConfig.checkKnown(file, path + ".", node, DATASET_FIELDS);
    DatasetKind kind = enumValue(file, path + ".kind", text(file, node, "kind"), DatasetKind.class);
    DatasetFormat format = enumValue(file, path + ".format", text(file, node, "format"), DatasetFormat.class);
    JsonNode classesNode = node.get("classes");
    if (format.survival() && classesNode == null) {
      classesNode = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
    }
    if (classesNode == null || !classesNode.isArray()) {
      throw new ConfigException(file + ": " + path + ".classes must be a list of class names");
    }
    List<String> classes = new ArrayList<>();
    classesNode.forEach(c -> classes.add(c.asText()));
    DatasetDeclaration.Options options = options(file, path, node, base, format);
    try {
      return new DatasetDeclaration(text(file, node, "name"), kind, format, location(file, path, node, base, options),
          classes, options);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + path + ": " + e.getMessage());
    }
  }

  /** The dataset's files; for an OMOP database, which has none, its host, port and database, as messages name it. */
  private static Path location(Path file, String path, JsonNode node, Path base, DatasetDeclaration.Options options) {
    if (options.omop().isPresent()) {
      if (node.has("location")) {
        throw new ConfigException(file + ": " + path + ".location does not apply to an OMOP database; it is named by"
            + " database.url");
      }
      return Path.of(options.omop().get().database().describe());
    }
    return base.resolve(text(file, node, "location")).normalize();
  }

  private static DatasetDeclaration.Options options(Path file, String path, JsonNode node, Path base,
      DatasetFormat format) {
    DatasetDeclaration.Options defaults = DatasetDeclaration.Options.DEFAULTS;
    JsonNode missing = node.get("missing_features");
    MissingFeatures missingFeatures = MissingFeatures.FAIL;
    if (missing != null && !(missing.isTextual() && missing.asText().equals("fail"))) {
      if (!missing.isObject() || !missing.has("impute") || !missing.get("impute").isNumber() || missing.size() != 1) {
        throw new ConfigException(file + ": " + path + ".missing_features must be 'fail' or {impute: NUMBER}");
      }
      missingFeatures = MissingFeatures.imputeWith((float) missing.get("impute").asDouble());
    }
    return new DatasetDeclaration.Options(
        enumValue(file, path + ".normalise", node.path("normalise").asText("none"), Normalisation.class),
        missingFeatures,
        enumValue(file, path + ".orientation", node.path("orientation").asText("genes_by_samples"),
            DatasetDeclaration.Orientation.class),
        node.hasNonNull("phenotypes") ? Optional.of(base.resolve(node.get("phenotypes").asText()).normalize())
            : Optional.empty(),
        node.path("label_column").asText(defaults.labelColumn()),
        node.path("test_fraction").asDouble(defaults.testFraction()),
        node.path("split_seed").asLong(defaults.splitSeed()),
        window(file, path, node.get("window")),
        badRows(file, path, node.path("bad_rows").asText("fail")),
        format.volumes() ? ImagePreprocessing.NONE : image(file, path, node),
        format.volumes() ? volume(file, path, node) : VolumePreprocessing.DEFAULTS,
        node.has("mapping") && !format.omop()
            ? Optional.of(FhirMappingConfig.read(file, path + ".mapping", node.get("mapping"))) : Optional.empty(),
        omop(file, path, node, base, format));
  }

  private static Optional<OmopMapping> omop(Path file, String path, JsonNode node, Path base, DatasetFormat format) {
    if (!format.omop() && node.has("database")) {
      throw new ConfigException(file + ": " + path + ".database applies to formats omop and omop_survival only");
    }
    return format.omop() ? Optional.of(OmopMappingConfig.read(file, path, node, base)) : Optional.empty();
  }

  /** resize: [D, H, W] or spacing: [D, H, W] mm, intensity: zscore | window | none, volume: INDEX, memory_share: (0, 1]. */
  private static VolumePreprocessing volume(Path file, String path, JsonNode node) {
    JsonNode resize = node.get("resize");
    Optional<VolumePreprocessing.Size> size = Optional.empty();
    try {
      if (resize != null) {
        if (!resize.isArray() || resize.size() != 3 || !resize.get(0).canConvertToInt()
            || !resize.get(1).canConvertToInt() || !resize.get(2).canConvertToInt()) {
          throw new ConfigException(file + ": " + path + ".resize must be [DEPTH, HEIGHT, WIDTH] in voxels for"
              + " volumes, e.g. [64, 64, 64]");
        }
        size = Optional.of(new VolumePreprocessing.Size(resize.get(0).asInt(), resize.get(1).asInt(),
            resize.get(2).asInt()));
      }
      JsonNode spacingNode = node.get("spacing");
      Optional<VolumePreprocessing.Spacing> spacing = Optional.empty();
      if (spacingNode != null) {
        if (!spacingNode.isArray() || spacingNode.size() != 3 || !spacingNode.get(0).isNumber()
            || !spacingNode.get(1).isNumber() || !spacingNode.get(2).isNumber()) {
          throw new ConfigException(file + ": " + path + ".spacing must be [DEPTH, HEIGHT, WIDTH] in mm for"
              + " volumes, e.g. [1.5, 1, 1]");
        }
        spacing = Optional.of(new VolumePreprocessing.Spacing(spacingNode.get(0).asDouble(),
            spacingNode.get(1).asDouble(), spacingNode.get(2).asDouble()));
      }
      String intensity = node.path("intensity").asText("zscore");
      Optional<DicomWindow> window = window(file, path, node.get("window"));
      VolumePreprocessing.Intensity scaling = switch (intensity) {
        case "zscore" -> new VolumePreprocessing.Intensity.ZScore();
        case "none" -> new VolumePreprocessing.Intensity.None();
        case "window" -> new VolumePreprocessing.Intensity.Window(window.orElseThrow(() -> new ConfigException(file
            + ": " + path + ": intensity: window needs window: {center: NUMBER, width: NUMBER}")));
        default -> throw new ConfigException(file + ": " + path + ".intensity is '" + intensity + "'; expected zscore"
            + " (each volume to mean 0, deviation 1; the default), window (with window: {center, width}) or none");
      };
      JsonNode volume = node.get("volume");
      if (volume != null && !volume.canConvertToInt()) {
        throw new ConfigException(file + ": " + path + ".volume must be a 0-based volume index, got '"
            + volume.asText() + "'");
      }
      JsonNode share = node.get("memory_share");
      if (share != null && !share.isNumber()) {
        throw new ConfigException(file + ": " + path + ".memory_share must be a number in (0, 1], got '"
            + share.asText() + "'");
      }
      return new VolumePreprocessing(size, spacing, scaling, volume == null ? OptionalInt.empty()
          : OptionalInt.of(volume.asInt()), share == null ? VolumePreprocessing.DEFAULTS.heapShare() : share.asDouble());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + path + "." + e.getMessage());
    }
  }

  private static ImagePreprocessing image(Path file, String path, JsonNode node) {
    JsonNode resize = node.get("resize");
    Optional<ImagePreprocessing.Size> size = Optional.empty();
    if (resize != null) {
      if (!resize.isArray() || resize.size() != 2 || !resize.get(0).canConvertToInt()
          || !resize.get(1).canConvertToInt()) {
        throw new ConfigException(file + ": " + path + ".resize must be [HEIGHT, WIDTH] in pixels, e.g. [224, 224]");
      }
      try {
        size = Optional.of(new ImagePreprocessing.Size(resize.get(0).asInt(), resize.get(1).asInt()));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(file + ": " + path + "." + e.getMessage());
      }
    }
    return new ImagePreprocessing(size, enumValue(file, path + ".channels", node.path("channels").asText("gray"),
        ImagePreprocessing.Channels.class));
  }

  private static boolean badRows(Path file, String path, String value) {
    return switch (value) {
      case "fail" -> false;
      case "skip" -> true;
      default -> throw new ConfigException(file + ": " + path + ".bad_rows is '" + value + "'; expected fail (the"
          + " default: a bad record stops the load) or skip (bad records are skipped and counted)");
    };
  }

  private static Optional<DicomWindow> window(Path file, String path, JsonNode node) {
    if (node == null) {
      return Optional.empty();
    }
    if (!node.isObject() || !node.path("center").isNumber() || !node.path("width").isNumber() || node.size() != 2) {
      throw new ConfigException(file + ": " + path + ".window must be {center: NUMBER, width: NUMBER}, e.g. {center:"
          + " 40, width: 400} for soft tissue in CT");
    }
    return Optional.of(new DicomWindow(node.get("center").asDouble(), node.get("width").asDouble()));
  }

  private static String text(Path file, JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.isValueNode() || value.asText().isBlank()) {
      throw new ConfigException(file + ": missing required field '" + field + "'");
    }
    return value.asText();
  }

  private static <E extends Enum<E>> E enumValue(Path file, String field, String value, Class<E> type) {
    try {
      return Enum.valueOf(type, value.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      List<String> allowed = new ArrayList<>();
      for (E constant : type.getEnumConstants()) {
        allowed.add(constant.name().toLowerCase(Locale.ROOT));
      }
      throw new ConfigException(file + ": " + field + " is '" + value + "'; expected one of " + allowed);
    }
  }

  /** The configuration file is wrong; the message names the file and field. */
  public static final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
      super(message);
    }
  }
}
