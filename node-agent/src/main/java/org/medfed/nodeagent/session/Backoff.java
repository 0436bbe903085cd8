package org.medfed.nodeagent.session;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with jitter for reconnecting, so that hospitals that lost the coordinator at
 * the same moment do not all reconnect at the same moment.
 *
 * @param jitter fraction of the delay drawn at random, in [0, 1]: 0.2 gives delay * [0.8, 1.2]
 */
public record Backoff(Duration initial, Duration max, double multiplier, double jitter) {
  public Backoff {
    if (initial.isNegative() || initial.isZero()) {
      throw new IllegalArgumentException("initial backoff must be positive, got " + initial);
    }
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("max backoff (" + max + ") must be >= initial (" + initial + ")");
    }
    if (multiplier < 1) {
      throw new IllegalArgumentException("backoff multiplier must be >= 1, got " + multiplier);
    }
    if (jitter < 0 || jitter > 1) {
      throw new IllegalArgumentException("backoff jitter must be in [0, 1], got " + jitter);
    }
  }

  public static Backoff defaults() {
    return new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), 2.0, 0.2);
  }

  /** Delay before reconnect attempt {@code attempt} (0-based); {@code random} yields values in [0, 1). */
  public Duration delay(int attempt, DoubleSupplier random) {
    double base = Math.min(max.toMillis(), initial.toMillis() * Math.pow(multiplier, Math.min(attempt, 62)));
    double factor = 1 + jitter * (2 * random.getAsDouble() - 1);
    return Duration.ofMillis(Math.round(Math.min(max.toMillis() * (1 + jitter), base * factor)));
  }
}
