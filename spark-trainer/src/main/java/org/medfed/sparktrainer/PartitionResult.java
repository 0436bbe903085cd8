package org.medfed.sparktrainer;

import java.io.Serializable;

/**
 * One partition's round: its new weights, how many records it trained on (its weight in the
 * average), the mean loss of its last epoch, and its optimiser steps.
 */
record PartitionResult(float[] parameters, long samples, double trainLoss, long steps) implements Serializable {
  private static final long serialVersionUID = 1L;

  PartitionResult {
    parameters = parameters.clone();
    if (samples < 1) {
      throw new IllegalArgumentException("a partition trained on " + samples + " records");
    }
  }

  @Override
  public float[] parameters() {
    return parameters.clone();
  }
}
