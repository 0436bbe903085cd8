package org.medfed.coordinator.job;

import java.time.Duration;

/**
 * A job's secure-aggregation settings. On by default: {@code secure_aggregation: false} is an
 * explicit opt-out that the job record and logs show.
 *
 * @param clip each masked value (the weight and the weighted update) is clipped to [-clip, clip]
 * @param maxSamplesPerNode the weight of a hospital is its sample count divided by this, so counts
 *     travel only inside the masked sum; a hospital with more samples declines the task
 * @param stageDeadline deadline for each key-exchange and unmasking stage
 * @param neighbours 0 (the default): every pair of hospitals masks, as in Bonawitz et al. 2017; an
 *     even k: SecAgg+ (Bell et al. 2020), each hospital masks with and shares its secrets among k
 *     neighbours, so its work grows with k instead of n. For consortia of hundreds of hospitals.
 */
public record SecureAggregationSpec(boolean enabled, double clip, long maxSamplesPerNode, Duration stageDeadline,
    int neighbours) {
  public SecureAggregationSpec {
    if (!(clip > 0 && clip <= 1e6)) {
      throw new InvalidJobSpecException("secure_aggregation.clip", "must be in (0, 1e6], got " + clip);
    }
    if (maxSamplesPerNode < 1) {
      throw new InvalidJobSpecException("secure_aggregation.max_samples_per_node", "must be >= 1, got "
          + maxSamplesPerNode);
    }
    if (neighbours != 0 && (neighbours < 2 || neighbours % 2 != 0 || neighbours > 254)) {
      throw new InvalidJobSpecException("secure_aggregation.neighbours", "must be 0 (every pair masks) or an even"
          + " number in 2..254, got " + neighbours);
    }
    if (stageDeadline.isNegative() || stageDeadline.isZero()) {
      throw new InvalidJobSpecException("secure_aggregation.stage_deadline", "must be positive");
    }
  }

  public static SecureAggregationSpec defaults() {
    return new SecureAggregationSpec(true, 1.0, 100_000, Duration.ofMinutes(1), 0);
  }

  public static SecureAggregationSpec off() {
    SecureAggregationSpec d = defaults();
    return new SecureAggregationSpec(false, d.clip(), d.maxSamplesPerNode(), d.stageDeadline(), 0);
  }
}
