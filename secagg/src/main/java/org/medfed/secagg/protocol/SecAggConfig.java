package org.medfed.secagg.protocol;

import org.medfed.secagg.crypto.Shamir;

/**
 * The public parameters of one secure-aggregation instance, identical at the server and every client.
 *
 * @param context bytes naming this instance (job, round, attempt); bound into the session id, so
 *     nothing from another round or attempt verifies here
 * @param threshold t: shares needed to reconstruct a secret; also the minimum number of survivors
 * @param vectorLength length of the integer vectors being summed
 */
public record SecAggConfig(byte[] context, MaskingGraph graph, int threshold, int vectorLength) {
  public SecAggConfig {
    context = context.clone();
    if (graph.participants().stream().anyMatch(id -> id < 1 || id > Shamir.MAX_SHARES)) {
      throw new IllegalArgumentException("participant ids must be in 1.." + Shamir.MAX_SHARES + ", got "
          + graph.participants());
    }
    if (threshold < 2 || threshold > graph.minimumNeighbourhood()) {
      throw new IllegalArgumentException("threshold (" + threshold + ") must be in 2.." + graph.minimumNeighbourhood()
          + " for " + graph);
    }
    if (vectorLength < 1) {
      throw new IllegalArgumentException("vectorLength must be >= 1, got " + vectorLength);
    }
  }

  @Override
  public byte[] context() {
    return context.clone();
  }

  /** t = floor(n/2) + 1: an honest majority, the default against an honest-but-curious server. */
  public static int majority(int n) {
    return n / 2 + 1;
  }
}
