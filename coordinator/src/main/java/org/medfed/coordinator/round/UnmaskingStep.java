package org.medfed.coordinator.round;

/**
 * The coordinator's steps in a secure round whose CPU time {@link SecureTraining} measures per
 * thread and reports with the round's progress (docs/benchmarks.md, "Secure aggregation's critical
 * path"). Waiting for the hospitals is in none of them.
 */
enum UnmaskingStep {
  /** Checking each node's signed round keys and sending the key directory. */
  KEYS,
  /** Routing the encrypted shares to their recipients. */
  SHARES,
  /** Decoding each masked vector as it arrives and adding it to the running sum, on the thread that delivered it. */
  SUM,
  /** Closing the sum, verifying the survivor-set signatures and sending the unmask requests. */
  CONSISTENCY_CHECK,
  /** Reconstructing self-mask seeds and dropouts' keys, regenerating their masks and removing them from the sum. */
  UNMASK,
  /** Turning the unmasked integer sum back into floating point. */
  DEQUANTIZE
}
