package org.medfed.nodeagent.session;

import java.util.EnumSet;
import java.util.Set;

/**
 * The steps of a training round at a hospital whose CPU time the agent measures per thread and
 * logs once per round (docs/benchmarks.md, "Secure aggregation's critical path"). Transfers of the
 * model and of the update are in neither: a plaintext round makes them too.
 */
enum RoundStep {
  /** Local training, on the thread that calls the trainer (the worker, or a secure task's trainer thread). */
  TRAINING,
  /** Round key pairs, their signature, and the message that advertises them. */
  ADVERTISE_KEYS,
  /** Checking peers' signed keys, key agreement, Shamir shares of both secrets, their encryption. */
  SHARE_KEYS,
  /** Expanding the self mask and the pairwise masks, beside training. */
  MASK_EXPANSION,
  /** Weighting the update by its sample weight, checking it is finite, and quantizing it. */
  QUANTIZATION,
  /** Decrypting the received shares and adding the prepared mask to the quantized update. */
  MASKING,
  /** Signing the survivor set shown by the coordinator. */
  CONSISTENCY_CHECK,
  /** Verifying the survivors' signatures and revealing the shares the coordinator asked for. */
  UNMASK;

  /** Every step that secure aggregation adds to a round. */
  static final Set<RoundStep> PROTOCOL = EnumSet.complementOf(EnumSet.of(TRAINING));
}
