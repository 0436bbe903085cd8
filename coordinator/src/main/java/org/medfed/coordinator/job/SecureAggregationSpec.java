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
    JobSchema.SECAGG_CLIP.check(clip);
    JobSchema.SECAGG_MAX_SAMPLES.check(maxSamplesPerNode);
    JobSchema.SECAGG_NEIGHBOURS.check(neighbours);
    JobSchema.SECAGG_STAGE_DEADLINE.check(stageDeadline);
  }

  public static SecureAggregationSpec defaults() {
    return new SecureAggregationSpec(true, (Double) JobSchema.SECAGG_CLIP.fallback(),
        (Long) JobSchema.SECAGG_MAX_SAMPLES.fallback(), (Duration) JobSchema.SECAGG_STAGE_DEADLINE.fallback(),
        ((Long) JobSchema.SECAGG_NEIGHBOURS.fallback()).intValue());
  }

  public static SecureAggregationSpec off() {
    SecureAggregationSpec d = defaults();
    return new SecureAggregationSpec(false, d.clip(), d.maxSamplesPerNode(), d.stageDeadline(), 0);
  }
}
