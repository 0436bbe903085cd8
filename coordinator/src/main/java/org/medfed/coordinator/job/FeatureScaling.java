package org.medfed.coordinator.job;

/** How the hospitals scale a feature table's columns before training, beyond what each declared for its dataset. */
public enum FeatureScaling {
  /** As each hospital's dataset declaration says (its {@code normalise}). */
  NONE,
  /**
   * z-scores with the consortium's pooled means and standard deviations, measured before round 1
   * through the job's aggregation ({@link org.medfed.wire.FeatureStatistics}): under label skew a
   * hospital's own statistics describe its case mix, and scale each site's features apart.
   */
  CONSORTIUM_ZSCORE
}
