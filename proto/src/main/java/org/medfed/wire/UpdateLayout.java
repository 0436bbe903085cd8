package org.medfed.wire;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.medfed.proto.v1.TrainingPlan;

/**
 * What one hospital's update holds, named once for the coordinator and the agent: the vectors of the
 * model's length it sends, always {@value #DELTA} first and then the extra vectors the job's strategy
 * declares in the training plan (SCAFFOLD's {@value #CONTROL_DELTA}).
 *
 * <ul>
 *   <li>In the clear the upload is those vectors one after another; the sample count and metrics
 *       travel in the upload header.
 *   <li>Under secure aggregation the masked vector is {@code [w, w·delta, w·extra..., w·loss]} with
 *       w = samples / max_samples_per_node, so that the sum divided by its first value is the
 *       sample-weighted mean of every vector and of the loss, and no count travels in the clear.
 * </ul>
 *
 * @param parameterCount the model's length, which every vector has
 * @param vectors the vectors' names in upload order; {@value #DELTA} first, no name twice
 */
public record UpdateLayout(int parameterCount, List<String> vectors) {
  /** The change to the global weights a hospital proposes. */
  public static final String DELTA = "delta";
  /** SCAFFOLD's change of a hospital's control variate, c_i+ − c_i (Karimireddy et al. 2020). */
  public static final String CONTROL_DELTA = "control_delta";
  /**
   * The task tensor a hospital that sends {@value #CONTROL_DELTA} corrects its local steps with:
   * SCAFFOLD's server control variate c.
   */
  public static final String SERVER_CONTROL = "server_control";

  public UpdateLayout {
    vectors = List.copyOf(vectors);
    if (parameterCount < 1) {
      throw new IllegalArgumentException("an update layout needs a model of at least one parameter, got "
          + parameterCount);
    }
    if (vectors.isEmpty() || !vectors.get(0).equals(DELTA)) {
      throw new IllegalArgumentException("an update starts with '" + DELTA + "', got " + vectors);
    }
    if (new HashSet<>(vectors).size() != vectors.size() || vectors.stream().anyMatch(String::isBlank)) {
      throw new IllegalArgumentException("update vector names must be distinct and not blank, got " + vectors);
    }
    // Masked words are counted in an int; so are the values of a plaintext upload.
    if ((long) parameterCount * vectors.size() + 2 > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(vectors.size() + " vectors of " + parameterCount
          + " parameters do not fit one update");
    }
  }

  /** The layout a training plan asks for: the delta and the plan's extra vectors. */
  public static UpdateLayout of(TrainingPlan plan) {
    if (plan.getParameterCount() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a model of " + plan.getParameterCount() + " parameters is too large");
    }
    List<String> vectors = new ArrayList<>();
    vectors.add(DELTA);
    vectors.addAll(plan.getExtraVectorsList());
    return new UpdateLayout((int) plan.getParameterCount(), vectors);
  }

  /** The extra vectors, those after the delta. */
  public List<String> extraVectors() {
    return vectors.subList(1, vectors.size());
  }

  /** Values in a plaintext upload. */
  public int plainLength() {
    return parameterCount * vectors.size();
  }

  /** Where the named vector starts in a plaintext upload. */
  public int plainOffset(String vector) {
    int index = vectors.indexOf(vector);
    if (index < 0) {
      throw new IllegalArgumentException("this update holds no vector '" + vector + "'; it holds " + vectors);
    }
    return index * parameterCount;
  }

  /** Words in the masked vector: the weight, every vector, and the loss. */
  public int maskedLength() {
    return plainLength() + 2;
  }

  /** Where the sample weight w sits in the masked vector. */
  public int maskedWeightIndex() {
    return 0;
  }

  /** Where w times the named vector starts in the masked vector. */
  public int maskedOffset(String vector) {
    return 1 + plainOffset(vector);
  }

  /** Where w times the training loss sits in the masked vector. */
  public int maskedLossIndex() {
    return maskedLength() - 1;
  }

  /** Splits a plaintext upload (or the vectors' part of an unmasked sum) into its named vectors, in order. */
  public Map<String, float[]> split(float[] plain) {
    if (plain.length != plainLength()) {
      throw new IllegalArgumentException("an update of " + vectors + " over " + parameterCount + " parameters has "
          + plainLength() + " values, got " + plain.length);
    }
    Map<String, float[]> out = new LinkedHashMap<>();
    for (String vector : vectors) {
      float[] values = new float[parameterCount];
      System.arraycopy(plain, plainOffset(vector), values, 0, parameterCount);
      out.put(vector, values);
    }
    return out;
  }

  /** The plaintext upload of the named vectors, which must be exactly this layout's. */
  public float[] join(Map<String, float[]> named) {
    if (!named.keySet().equals(new HashSet<>(vectors))) {
      throw new IllegalArgumentException("an update needs exactly the vectors " + vectors + ", got " + named.keySet());
    }
    float[] out = new float[plainLength()];
    for (String vector : vectors) {
      float[] values = named.get(vector);
      if (values.length != parameterCount) {
        throw new IllegalArgumentException("vector '" + vector + "' has " + values.length + " values, the model "
            + parameterCount);
      }
      System.arraycopy(values, 0, out, plainOffset(vector), parameterCount);
    }
    return out;
  }

  @Override
  public String toString() {
    return "[w, " + String.join(", ", vectors.stream().map(v -> "w·" + v).toList()) + ", w·loss] over "
        + parameterCount + " parameters";
  }
}
