package org.medfed.coordinator.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.LongPredicate;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One field of a job document, as {@link JobSchema} declares it: where it sits, what type it holds,
 * its default, its valid values, and what the hospitals' approval digest makes of it. Reading,
 * checking and writing a field all go through its row, so an error names the same path and range
 * whether it comes from a document or from code that builds a spec.
 *
 * @param path dotted, as errors name it: {@code secure_aggregation.clip}
 * @param fallback the value when the document leaves the field out; {@code null} when the field is
 *     required or its default depends on other fields ({@link #defaultText} says which)
 * @param defaultText the default as documentation states it
 */
public record JobField(String path, Type type, Object fallback, String defaultText, Valid valid,
    Approval approval) {

  /** What a document may hold in the field. */
  public enum Type {
    TEXT, INTEGER, NUMBER, BOOLEAN, DURATION,
    /** One of an enum's constants, written in lower case with '-' for '_'. */
    CHOICE,
    INTEGER_LIST, TEXT_LIST,
    /** A mapping of the fields below it. */
    MAPPING,
    /** A name, or a mapping whose {@code name} field holds it (the strategy). */
    TEXT_OR_MAPPING,
    /** true, false, or a mapping of settings (secure aggregation). */
    BOOLEAN_OR_MAPPING,
    /** JSON text, or the same as a mapping (a DL4J configuration). */
    JSON
  }

  /** The values a field accepts, as errors state them. */
  public record Valid(String text, Predicate<Object> test) {
    public static final Valid ANY = new Valid("any value", v -> true);

    /** A whole number in [min, max]. */
    public static Valid between(long min, long max) {
      return whole("in " + min + ".." + max, v -> v >= min && v <= max);
    }

    public static Valid atLeast(long min) {
      return whole(">= " + min, v -> v >= min);
    }

    /** A whole number the predicate accepts, described by {@code text}. */
    public static Valid whole(String text, LongPredicate test) {
      return new Valid(text, v -> test.test(((Number) v).longValue()));
    }

    /** A finite number the predicate accepts, described by {@code text}. */
    public static Valid number(String text, Predicate<Double> test) {
      return new Valid(text, v -> Double.isFinite(((Number) v).doubleValue()) && test.test(((Number) v).doubleValue()));
    }

    public static Valid matching(String regex, String text) {
      Pattern pattern = Pattern.compile(regex);
      return new Valid(text, v -> v != null && pattern.matcher((String) v).matches());
    }

    public static Valid positiveDuration() {
      return new Valid("positive", v -> !((Duration) v).isNegative() && !((Duration) v).isZero());
    }
  }

  /**
   * What the approval digest does with a field. A hospital approves one digest per job; a field that
   * changes what the job does with its data, or what leaves the hospital, must move it.
   *
   * @param covers where the field reaches the digest: {@code TrainingPlan.batch_size},
   *     {@code PrivacySettings.clip}, or {@code JobDigest.dataset} for the digest's own header; empty
   *     when it does not
   * @param sentUncovered wire fields that carry the field to hospitals but that the digest leaves out
   * @param why for a field outside the digest, why no approval needs it; for a covered field, any
   *     condition on the coverage
   */
  public record Approval(List<String> covers, List<String> sentUncovered, String why) {
    public Approval {
      covers = List.copyOf(covers);
      sentUncovered = List.copyOf(sentUncovered);
      Objects.requireNonNull(why, "why");
    }

    /** Covered: a changed value changes the digest hospitals approved. */
    public static Approval digest(String... wireFields) {
      return new Approval(Arrays.asList(wireFields), List.of(), "");
    }

    /** Covered only under a condition, stated in {@code when}. */
    public static Approval digestWhen(String when, String... wireFields) {
      return new Approval(Arrays.asList(wireFields), List.of(), when);
    }

    /** Never sent to hospitals: it only steers the coordinator. */
    public static Approval coordinatorOnly(String why) {
      return new Approval(List.of(), List.of(), why);
    }

    /** Whether changing the field changes the digest. */
    public boolean covered() {
      return !covers.isEmpty();
    }

    /** Every wire field the job field reaches, covered or not. */
    public List<String> wireFields() {
      return Stream.concat(covers.stream(), sentUncovered.stream()).toList();
    }
  }

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

  public JobField {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(valid, "valid");
    Objects.requireNonNull(approval, "approval");
  }

  /** The last segment of the path: the key in its mapping. */
  public String key() {
    return path.substring(path.lastIndexOf('.') + 1);
  }

  /** The path of the mapping that holds the field; "" at the top. */
  public String parent() {
    int dot = path.lastIndexOf('.');
    return dot < 0 ? "" : path.substring(0, dot);
  }

  /** @throws InvalidJobSpecException naming this field when {@code value} is not valid */
  public <T> T check(T value) {
    if (!valid.test().test(value)) {
      String shown = value instanceof Duration d ? d.toSeconds() + "s" : value instanceof String ? "'" + value + "'"
          : String.valueOf(value);
      throw new InvalidJobSpecException(path, "must be " + valid.text() + ", got " + shown);
    }
    return value;
  }

  /** The field's node in {@code parent}, or null when absent or null. */
  public JsonNode node(JsonNode parent) {
    JsonNode node = parent.get(key());
    return node == null || node.isNull() ? null : node;
  }

  public boolean presentIn(JsonNode parent) {
    return node(parent) != null;
  }

  public String text(JsonNode parent) {
    expect(Type.TEXT, Type.TEXT_OR_MAPPING);
    return read(parent, "text", JsonNode::isTextual, JsonNode::asText);
  }

  public long integer(JsonNode parent) {
    expect(Type.INTEGER);
    return read(parent, "an integer", JsonNode::isIntegralNumber, JsonNode::asLong);
  }

  public double number(JsonNode parent) {
    expect(Type.NUMBER);
    return read(parent, "a number", JsonNode::isNumber, JsonNode::asDouble);
  }

  public boolean bool(JsonNode parent) {
    expect(Type.BOOLEAN, Type.BOOLEAN_OR_MAPPING);
    return read(parent, "true or false", JsonNode::isBoolean, JsonNode::asBoolean);
  }

  /** The field's value, its default when absent, checked; a node of another type is refused. */
  @SuppressWarnings("unchecked")
  private <T> T read(JsonNode parent, String expected, Predicate<JsonNode> isType, Function<JsonNode, T> value) {
    JsonNode node = node(parent);
    if (node == null) {
      return check((T) fallbackOrMissing());
    }
    if (!isType.test(node)) {
      throw new InvalidJobSpecException(path, "must be " + expected + ", got " + node);
    }
    return check(value.apply(node));
  }

  /** {@code 90s}, {@code 5m}, {@code 1h}, {@code 250ms}, or a number of seconds. */
  public Duration duration(JsonNode parent) {
    expect(Type.DURATION);
    JsonNode node = node(parent);
    if (node == null) {
      return check((Duration) fallbackOrMissing());
    }
    if (node.isIntegralNumber()) {
      return check(Duration.ofSeconds(node.asLong()));
    }
    Matcher m = DURATION.matcher(node.asText().trim());
    if (!m.matches()) {
      throw new InvalidJobSpecException(path, "'" + node.asText() + "' is not a duration such as 90s, 5m or 1h");
    }
    long amount = Long.parseLong(m.group(1));
    return check(switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(amount);
      case "s" -> Duration.ofSeconds(amount);
      case "m" -> Duration.ofMinutes(amount);
      default -> Duration.ofHours(amount);
    });
  }

  /** One of {@code type}'s constants; the error lists them as a document writes them. */
  public <E extends Enum<E>> E choice(JsonNode parent, Class<E> choices) {
    expect(Type.CHOICE, Type.TEXT_OR_MAPPING);
    JsonNode node = node(parent);
    String value;
    if (node == null) {
      value = (String) fallbackOrMissing();
    } else if (!node.isTextual()) {
      throw new InvalidJobSpecException(path, "must be one of " + labels(choices) + ", got " + node);
    } else {
      value = node.asText();
    }
    return choice(value, choices);
  }

  /** {@code value} as one of {@code choices}' constants. */
  public <E extends Enum<E>> E choice(String value, Class<E> choices) {
    try {
      return Enum.valueOf(choices, value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new InvalidJobSpecException(path, "'" + value + "' is not one of " + labels(choices));
    }
  }

  /** A constant as documents write it: {@code SMALL_CNN} is {@code small-cnn}. */
  public static String label(Enum<?> constant) {
    return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Writes {@code value} under this field's key into its mapping, {@code parent}. */
  public void write(ObjectNode parent, Object value) {
    String key = key();
    if (value instanceof String s) {
      parent.put(key, s);
    } else if (value instanceof Integer i) {
      parent.put(key, i);
    } else if (value instanceof Long l) {
      parent.put(key, l);
    } else if (value instanceof Double d) {
      parent.put(key, d);
    } else if (value instanceof Boolean b) {
      parent.put(key, b);
    } else if (value instanceof Duration d) {
      // Milliseconds, so that any duration reads back exactly.
      parent.put(key, d.toMillis() + "ms");
    } else if (value instanceof Enum<?> e) {
      parent.put(key, label(e));
    } else {
      throw new IllegalArgumentException(path + ": cannot write " + value.getClass().getSimpleName());
    }
  }

  private Object fallbackOrMissing() {
    if (fallback == null) {
      throw new InvalidJobSpecException(path, "missing");
    }
    return fallback;
  }

  private void expect(Type... types) {
    if (!Arrays.asList(types).contains(type)) {
      throw new IllegalStateException(path + " is declared " + type + ", read as " + Arrays.toString(types));
    }
  }

  private static <E extends Enum<E>> List<String> labels(Class<E> choices) {
    return Arrays.stream(choices.getEnumConstants()).map(JobField::label).toList();
  }
}
