package org.medfed.secagg.protocol;

/**
 * The stages of a secure-aggregation round, in order, plus the end states. CONSISTENCY_CHECK is the
 * round Bonawitz et al. 2017 add against an active server: survivors sign the survivor set.
 */
public enum Stage {
  ADVERTISE_KEYS, SHARE_KEYS, MASKED_INPUT, CONSISTENCY_CHECK, UNMASKING, DONE, ABORTED
}
