package org.medfed.coordinator.session;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** How one issued task ended. Every issued task ends in exactly one of these. */
public sealed interface TaskResult {

  /** Why a task did not yield a usable result, in words for logs and job records. */
  static String describe(TaskResult result) {
    if (result instanceof Declined d) {
      return "declined (" + d.reason() + ")";
    } else if (result instanceof Failed f) {
      return f.reason();
    } else if (result instanceof Rejected r) {
      return "update rejected (" + r.reason() + ")";
    }
    return result.toString();
  }

  /** An update that passed validation. Only the round state machine reads it. */
  record Trained(float[] update, long numSamples, Map<String, Double> metrics) implements TaskResult {
    public Trained {
      update = update.clone();
      metrics = Map.copyOf(metrics);
    }

    @Override
    public float[] update() {
      return update.clone();
    }

    @Override
    public String toString() {
      return "Trained[" + update.length + " values, " + numSamples + " samples]";
    }
  }

  /**
   * A masked vector for secure aggregation, as the little-endian words received: meaningless alone,
   * it only ever joins the masked sum. It can be taken once, so that the megabytes are garbage as
   * soon as they are in the sum, however long the task's result stays referenced.
   */
  final class Masked implements TaskResult {
    private final int bytes;
    private final AtomicReference<ByteBuffer> words;

    public Masked(ByteBuffer words) {
      this.bytes = words.remaining();
      this.words = new AtomicReference<>(words.asReadOnlyBuffer());
    }

    /**
     * @return the words, the first time only
     * @throws IllegalStateException if they were taken before
     */
    public ByteBuffer take() {
      ByteBuffer taken = words.getAndSet(null);
      if (taken == null) {
        throw new IllegalStateException("this masked vector was already taken into the sum");
      }
      return taken;
    }

    @Override
    public String toString() {
      return "Masked[" + bytes + " bytes]";
    }
  }

  record Evaluated(long numSamples, Map<String, Double> metrics) implements TaskResult {
    public Evaluated {
      metrics = Map.copyOf(metrics);
    }
  }

  /** The hospital refused the task (no such dataset, shape mismatch, policy). */
  record Declined(String reason) implements TaskResult {}

  /** The task did not finish: the node failed, disconnected or missed the deadline. */
  record Failed(String reason) implements TaskResult {}

  /** The node answered, but its update failed validation and was not aggregated. */
  record Rejected(String reason) implements TaskResult {}
}
