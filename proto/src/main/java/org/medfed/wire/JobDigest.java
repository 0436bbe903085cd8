package org.medfed.wire;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.medfed.proto.v1.PrivacySettings;
import org.medfed.proto.v1.TrainingPlan;

/**
 * The digest a hospital approves: SHA-256 over what a job would do with its data — the dataset it
 * reads, the model architecture with its optimiser (the DL4J configuration), the training plan
 * (with the feature ids it reads, if any) and the privacy settings. Computed by both sides from the same fields in a fixed, length-prefixed
 * encoding, so the agent recomputes it from what it is asked to run and never trusts a digest it
 * is told. The seed is left out: it changes no code path, and a re-run of an approved job with
 * another seed needs no new approval.
 */
public final class JobDigest {
  private static final String DOMAIN = "medfed-job-digest/v1";

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
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory failed", e);
    }
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  /** The first 12 hex digits, for logs and tables; commands accept any unique prefix. */
  public static String shortForm(String digest) {
    return digest.length() > 12 ? digest.substring(0, 12) : digest;
  }

  private static void text(DataOutputStream out, String value) throws IOException {
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    out.writeInt(utf8.length);
    out.write(utf8);
  }
}
