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
    if (!(clip > 0 && clip <= 1e6)) {
      throw new InvalidJobSpecException("privacy.dp_sgd.clip", "must be in (0, 1e6], got " + clip);
    }
    if (noiseMultiplier.isPresent() == targetEpsilon.isPresent()) {
      throw new InvalidJobSpecException("privacy.dp_sgd", "give either epsilon (each hospital derives its noise"
          + " from its own records) or noise_multiplier, not " + (noiseMultiplier.isPresent() ? "both" : "neither"));
    }
    if (noiseMultiplier.isPresent() && !(noiseMultiplier.getAsDouble() > 0 && noiseMultiplier.getAsDouble() <= 1e4)) {
      throw new InvalidJobSpecException("privacy.dp_sgd.noise_multiplier", "must be in (0, 10000], got "
          + noiseMultiplier.getAsDouble());
    }
    if (targetEpsilon.isPresent() && !(targetEpsilon.getAsDouble() > 0 && targetEpsilon.getAsDouble() <= 1e3)) {
      throw new InvalidJobSpecException("privacy.dp_sgd.epsilon", "must be in (0, 1000], got "
          + targetEpsilon.getAsDouble());
    }
    if (!(delta > 0 && delta < 0.01)) {
      throw new InvalidJobSpecException("privacy.dp_sgd.delta", "must be in (0, 0.01), well below 1 / records;"
          + " got " + delta);
    }
  }
}
