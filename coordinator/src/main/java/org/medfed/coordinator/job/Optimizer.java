package org.medfed.coordinator.job;

/**
 * The hospitals' local optimiser. Its state restarts every round, so only weights are shared.
 * SGD-family optimisers give deltas proportional to gradients, which average well across
 * hospitals with skewed labels; Adam's normalised steps often need more rounds there.
 */
public enum Optimizer {
  ADAM, SGD, NESTEROV
}
