package org.medfed.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.medfed.proto.v1.PrivacySettings;
import org.medfed.proto.v1.TrainingPlan;

/**
 * A hospital approves a digest, so a field the digest misses could change training without a new
 * approval. These tests walk the wire messages' descriptors: every field not in an explicit
 * exclusion set must move the digest. When {@code proximal_mu} (TrainingPlan field 10) was added to
 * the .proto, JobDigest was not touched: it is neither hand-written nor excluded, so the descriptor
 * walk appends it, and {@link #everyIncludedField_changesTheDigest} checks it with every other field.
 * Were the appended part replaced by a hand-written list that forgot a field, that test fails.
 */
class JobDigestCoverageTest {
  private static final String DATASET = "scans";

  @Test
  void handWrittenAndExcludedSets_nameRealFields_andDoNotOverlap() {
    assertSetsNameFieldsOf(TrainingPlan.getDescriptor(), JobDigest.PLAN_HAND_WRITTEN, JobDigest.PLAN_EXCLUDED);
    assertSetsNameFieldsOf(PrivacySettings.getDescriptor(), JobDigest.PRIVACY_HAND_WRITTEN,
        JobDigest.PRIVACY_EXCLUDED);
  }

  @Test
  void everyIncludedField_changesTheDigest() {
    for (FieldDescriptor field : TrainingPlan.getDescriptor().getFields()) {
      if (JobDigest.PLAN_EXCLUDED.contains(field.getNumber())) {
        continue;
      }
      assertFieldMovesDigest(field, v -> JobDigest.of(DATASET, (TrainingPlan) v, PrivacySettings.getDefaultInstance()),
          TrainingPlan.getDefaultInstance());
    }
    for (FieldDescriptor field : PrivacySettings.getDescriptor().getFields()) {
      if (JobDigest.PRIVACY_EXCLUDED.contains(field.getNumber())) {
        continue;
      }
      assertFieldMovesDigest(field, v -> JobDigest.of(DATASET, TrainingPlan.getDefaultInstance(), (PrivacySettings) v),
          PrivacySettings.getDefaultInstance());
    }
  }

  @Test
  void excludedFields_leaveTheDigestAlone() {
    TrainingPlan plan = JobDigestTest.knownPlan();
    PrivacySettings privacy = JobDigestTest.knownPrivacy();
    String digest = JobDigest.of(DATASET, plan, privacy);
    for (int number : JobDigest.PLAN_EXCLUDED) {
      FieldDescriptor field = TrainingPlan.getDescriptor().findFieldByNumber(number);
      TrainingPlan changed = (TrainingPlan) plan.toBuilder().setField(field, nonDefault(field, 2)).build();
      assertEquals(digest, JobDigest.of(DATASET, changed, privacy), field.getName());
    }
  }

  /** Named on its own, so that a hand-written encoding that forgets FedProx's mu fails here too. */
  @Test
  void proximalMu_isCovered_andZeroKeepsTheDigestOfPlansFromBeforeIt() {
    TrainingPlan plan = JobDigestTest.knownPlan();
    PrivacySettings privacy = JobDigestTest.knownPrivacy();
    String plain = JobDigest.of(DATASET, plan, privacy);

    String withMu = JobDigest.of(DATASET, plan.toBuilder().setProximalMu(0.01).build(), privacy);
    String otherMu = JobDigest.of(DATASET, plan.toBuilder().setProximalMu(0.1).build(), privacy);

    assertNotEquals(plain, withMu);
    assertNotEquals(withMu, otherMu);
    assertEquals(plain, JobDigest.of(DATASET, plan.toBuilder().setProximalMu(0).build(), privacy));
  }

  private interface Digester {
    String digest(Message message);
  }

  private static void assertFieldMovesDigest(FieldDescriptor field, Digester digester, Message empty) {
    String base = digester.digest(empty);
    String one = digester.digest(with(empty, field, 1));
    String two = digester.digest(with(empty, field, 2));
    String name = field.getContainingType().getName() + "." + field.getName();
    assertNotEquals(base, one, name + " set to a non-default value must change the digest");
    assertNotEquals(one, two, name + ": two different values must give two digests");
  }

  private static Message with(Message empty, FieldDescriptor field, int variant) {
    Message.Builder builder = empty.toBuilder();
    if (field.isRepeated()) {
      builder.addRepeatedField(field, nonDefault(field, variant));
    } else {
      builder.setField(field, nonDefault(field, variant));
    }
    return builder.build();
  }

  /** A value other than the field's default; different variants give different values. */
  private static Object nonDefault(FieldDescriptor field, int variant) {
    return switch (field.getJavaType()) {
      case INT -> variant;
      case LONG -> (long) variant;
      case FLOAT -> variant / 4f;
      case DOUBLE -> variant / 4.0;
      case BOOLEAN -> variant % 2 == 1;
      case STRING -> "value " + variant;
      case BYTE_STRING -> ByteString.copyFromUtf8("value " + variant);
      case ENUM -> field.getEnumType().getValues().get(variant % field.getEnumType().getValues().size());
      case MESSAGE -> throw new AssertionError(field.getFullName()
          + " is a message field: give this test a non-default value for it");
    };
  }

  private static void assertSetsNameFieldsOf(Descriptor message, Set<Integer> handWritten, Set<Integer> excluded) {
    Set<Integer> numbers = message.getFields().stream().map(FieldDescriptor::getNumber).collect(Collectors.toSet());
    assertTrue(numbers.containsAll(handWritten), message.getName() + " hand-written set names no such field");
    assertTrue(numbers.containsAll(excluded), message.getName() + " exclusion set names no such field");
    Set<Integer> both = new HashSet<>(handWritten);
    both.retainAll(excluded);
    assertEquals(Set.of(), both, message.getName() + " fields both hand-written and excluded");
  }
}
