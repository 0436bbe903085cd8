package org.medfed.nodeagent.data;

/**
 * Per-feature scaling a hospital declares for a tabular dataset. Statistics, where a method needs
 * them, come from the hospital's own training split only (they never leave it) and are applied to
 * both splits; under strong label skew prefer a method without statistics.
 */
public enum Normalisation {
  /** Values as they are in the files. */
  NONE,
  /** Each feature shifted to mean 0 and scaled to standard deviation 1 (constant features: shifted only). */
  ZSCORE,
  /**
   * log(1 + x) of every value, for non-negative measurements spanning orders of magnitude. It
   * needs no statistics, so every hospital scales alike however skewed its cases are.
   */
  LOG1P
}
