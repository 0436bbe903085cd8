package org.medfed.nodeagent.privacy;

import java.time.Duration;

/**
 * How much privacy a hospital lets the jobs on one of its datasets spend together, within a sliding
 * window: agent.yaml's {@code privacy_budget: {epsilon: 8, delta: 1e-5, per: 365d}}.
 */
public record PrivacyBudget(double epsilon, double delta, Duration window) {
  public PrivacyBudget {
    if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
      throw new IllegalArgumentException("privacy_budget.epsilon must be a finite number > 0, got " + epsilon);
    }
    if (!(delta > 0 && delta < 0.01)) {
      throw new IllegalArgumentException("privacy_budget.delta must be in (0, 0.01), got " + delta);
    }
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("privacy_budget.per must be a positive duration such as 365d, got " + window);
    }
  }

  /** "8.0 per 365 d", for messages. */
  public String describe() {
    return epsilon + " per " + window.toDays() + " d";
  }
}
