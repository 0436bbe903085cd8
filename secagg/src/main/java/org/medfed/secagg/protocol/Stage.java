package org.medfed.secagg.protocol;

/** The four stages of a secure-aggregation round, in order, plus the end states. */
public enum Stage {
  ADVERTISE_KEYS, SHARE_KEYS, MASKED_INPUT, UNMASKING, DONE, ABORTED
}
