package org.medfed.coordinator.job;

import java.util.OptionalDouble;

/**
 * A job's record-level differential privacy: DP-SGD at every hospital (see docs/privacy.md). Either
 * the noise multiplier is given, or a target ε from which each hospital derives its own noise from
 * its own number of records, so a small hospital adds more noise rather than spend more.
 *
 * @param clip C, the largest L2 norm one record's gradient may have
 */
public record DpSgdSpec(double clip, OptionalDouble noiseMultiplier, OptionalDouble targetEpsilon, double delta) {
  public DpSgdSpec {
    JobSchema.DP_CLIP.check(clip);
    if (noiseMultiplier.isPresent() == targetEpsilon.isPresent()) {
      throw new InvalidJobSpecException("privacy.dp_sgd", "give either epsilon (each hospital derives its noise"
          + " from its own records) or noise_multiplier, not " + (noiseMultiplier.isPresent() ? "both" : "neither"));
    }
    noiseMultiplier.ifPresent(JobSchema.DP_NOISE_MULTIPLIER::check);
    targetEpsilon.ifPresent(JobSchema.DP_EPSILON::check);
    JobSchema.DP_DELTA.check(delta);
  }
}
