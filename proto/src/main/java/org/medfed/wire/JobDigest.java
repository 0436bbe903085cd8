package org.medfed.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.medfed.proto.v1.PrivacySettings;
import org.medfed.proto.v1.TrainingPlan;

/**
 * The digest a hospital approves: SHA-256 over what a job would do with its data — the dataset it
 * reads, the model architecture with its optimiser (the DL4J configuration), the training plan
 * (with the feature ids it reads, if any) and the privacy settings. Computed by both sides from the same fields in a fixed, length-prefixed
 * encoding, so the agent recomputes it from what it is asked to run and never trusts a digest it
 * is told.
 *
 * <p>The digest's first fields are written by hand, in an order approved digests depend on. Every
 * other field of both messages is appended from the protobuf descriptors, so a field added to the
 * .proto is covered without touching this class; only {@link #PLAN_EXCLUDED} can leave one out.
 */
public final class JobDigest {
  private static final String DOMAIN = "medfed-job-digest/v1";
  /**
   * Starts the appended part, only when it has a field: old digests stay as they were, and the
   * marker keeps the appended fields from being read as the optional masking_neighbours before them.
   */
  private static final String APPENDED = "medfed-job-digest/appended-fields";

  /** TrainingPlan fields the hand-written encoding writes; never appended again. */
  static final Set<Integer> PLAN_HAND_WRITTEN = Set.of(TrainingPlan.MODEL_CONFIG_JSON_FIELD_NUMBER,
      TrainingPlan.PARAMETER_COUNT_FIELD_NUMBER, TrainingPlan.INPUT_SHAPE_FIELD_NUMBER,
      TrainingPlan.NUM_CLASSES_FIELD_NUMBER, TrainingPlan.LOCAL_EPOCHS_FIELD_NUMBER,
      TrainingPlan.BATCH_SIZE_FIELD_NUMBER, TrainingPlan.LEARNING_RATE_FIELD_NUMBER,
      TrainingPlan.FEATURE_NAMES_FIELD_NUMBER);
  /**
   * TrainingPlan fields this class does not hash itself. The seed changes no code path, only the
   * shuffle and initialisation; but DL4J writes it into the model configuration, which is hashed, so
   * a job with another seed still needs a new approval (the coordinator's JobSchemaTest shows it).
   */
  static final Set<Integer> PLAN_EXCLUDED = Set.of(TrainingPlan.SEED_FIELD_NUMBER);
  /** PrivacySettings fields the hand-written encoding writes; never appended again. */
  static final Set<Integer> PRIVACY_HAND_WRITTEN = Set.of(PrivacySettings.SECURE_AGGREGATION_FIELD_NUMBER,
      PrivacySettings.CLIP_FIELD_NUMBER, PrivacySettings.MAX_SAMPLES_PER_NODE_FIELD_NUMBER,
      PrivacySettings.MASKING_NEIGHBOURS_FIELD_NUMBER);
  /** Every privacy setting changes what leaves the hospital, so none is left out. */
  static final Set<Integer> PRIVACY_EXCLUDED = Set.of();

  private JobDigest() {}

  public static String of(String dataset, TrainingPlan plan, PrivacySettings privacy) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF(DOMAIN);
      text(out, dataset);
      text(out, plan.getModelConfigJson());
      out.writeLong(plan.getParameterCount());
      out.writeInt(plan.getInputShapeCount());
      for (long dim : plan.getInputShapeList()) {
        out.writeLong(dim);
      }
      out.writeInt(plan.getNumClasses());
      out.writeInt(plan.getLocalEpochs());
      out.writeInt(plan.getBatchSize());
      out.writeDouble(plan.getLearningRate());
      out.writeInt(plan.getFeatureNamesCount());
      for (String feature : plan.getFeatureNamesList()) {
        text(out, feature);
      }
      out.writeBoolean(privacy.getSecureAggregation());
      out.writeDouble(privacy.getClip());
      out.writeLong(privacy.getMaxSamplesPerNode());
      // Appended only when set, so the digests of complete-graph jobs stay what hospitals approved.
      if (privacy.getMaskingNeighbours() != 0) {
        out.writeInt(privacy.getMaskingNeighbours());
      }
      List<FieldDescriptor> planFields = appendable(plan, PLAN_HAND_WRITTEN, PLAN_EXCLUDED);
      List<FieldDescriptor> privacyFields = appendable(privacy, PRIVACY_HAND_WRITTEN, PRIVACY_EXCLUDED);
      if (!planFields.isEmpty() || !privacyFields.isEmpty()) {
        out.writeUTF(APPENDED);
        fields(out, plan, planFields);
        fields(out, privacy, privacyFields);
      }
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory failed", e);
    }
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  /**
   * The wire fields hospitals receive but the digest leaves out, as {@code Message.field} names, so
   * that the coordinator's job schema can be checked against this class.
   */
  public static Set<String> excludedFields() {
    Set<String> names = new TreeSet<>();
    PLAN_EXCLUDED.forEach(n -> names.add("TrainingPlan." + TrainingPlan.getDescriptor().findFieldByNumber(n).getName()));
    PRIVACY_EXCLUDED.forEach(n -> names.add("PrivacySettings."
        + PrivacySettings.getDescriptor().findFieldByNumber(n).getName()));
    return names;
  }

  /** The first 12 hex digits, for logs and tables; commands accept any unique prefix. */
  public static String shortForm(String digest) {
    return digest.length() > 12 ? digest.substring(0, 12) : digest;
  }

  /** The fields of {@code message} in neither set that are set, in field-number order. */
  private static List<FieldDescriptor> appendable(Message message, Set<Integer> handWritten, Set<Integer> excluded) {
    return message.getDescriptorForType().getFields().stream()
        .filter(f -> !handWritten.contains(f.getNumber()) && !excluded.contains(f.getNumber()))
        .filter(f -> isSet(message, f))
        .sorted(Comparator.comparingInt(FieldDescriptor::getNumber))
        .toList();
  }

  // For proto3 scalars "set" means "not the default value": a field left at its default leaves the
  // digest as it was before the field existed.
  private static boolean isSet(Message message, FieldDescriptor field) {
    return field.isRepeated() ? message.getRepeatedFieldCount(field) > 0 : message.hasField(field);
  }

  /**
   * A count, then per field its number, a type tag and its value (a count first when repeated):
   * prefix-free, so the two messages' fields cannot run into each other.
   */
  private static void fields(DataOutputStream out, Message message, List<FieldDescriptor> fields)
      throws IOException {
    out.writeInt(fields.size());
    for (FieldDescriptor field : fields) {
      fieldValue(out, message, field);
    }
  }

  private static void fieldValue(DataOutputStream out, Message message, FieldDescriptor field) throws IOException {
    out.writeInt(field.getNumber());
    out.writeByte(typeTag(field));
    if (field.isRepeated()) {
      int count = message.getRepeatedFieldCount(field);
      out.writeInt(count);
      for (int i = 0; i < count; i++) {
        value(out, field, message.getRepeatedField(field, i));
      }
    } else {
      value(out, field, message.getField(field));
    }
  }

  private static byte typeTag(FieldDescriptor field) {
    return switch (field.getJavaType()) {
      case INT -> 'i';
      case LONG -> 'l';
      case FLOAT -> 'f';
      case DOUBLE -> 'd';
      case BOOLEAN -> 'b';
      case STRING -> 's';
      case BYTE_STRING -> 'y';
      case ENUM -> 'e';
      case MESSAGE -> 'm';
    };
  }

  private static void value(DataOutputStream out, FieldDescriptor field, Object value) throws IOException {
    switch (field.getJavaType()) {
      case INT -> out.writeInt((Integer) value);
      case LONG -> out.writeLong((Long) value);
      case FLOAT -> out.writeInt(Float.floatToIntBits((Float) value));
      case DOUBLE -> out.writeLong(Double.doubleToLongBits((Double) value));
      case BOOLEAN -> out.writeBoolean((Boolean) value);
      case STRING -> text(out, (String) value);
      case BYTE_STRING -> {
        ByteString bytes = (ByteString) value;
        out.writeInt(bytes.size());
        bytes.writeTo(out);
      }
      case ENUM -> out.writeInt(((EnumValueDescriptor) value).getNumber());
      case MESSAGE -> {
        // A nested message is covered whole: each of its set fields, after their count.
        Message nested = (Message) value;
        fields(out, nested, appendable(nested, Set.of(), Set.of()));
      }
    }
  }

  private static void text(DataOutputStream out, String value) throws IOException {
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    out.writeInt(utf8.length);
    out.write(utf8);
  }
}
