package org.medfed.nodeagent.training;

/**
 * How a hospital runs DP-SGD in a round ({@link DpSgd}).
 *
 * @param clipNorm C, the largest L2 norm one record's gradient may have
 * @param noiseMultiplier σ: the noise's standard deviation over C
 * @param sampleRate q: the chance that a record is in a step's batch (batch size over records)
 * @param stepsPerRound how many DP-SGD steps one round takes
 */
public record DpSgdSettings(double clipNorm, double noiseMultiplier, double sampleRate, long stepsPerRound) {
  public DpSgdSettings {
    if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
      throw new IllegalArgumentException("the DP-SGD clip norm must be a finite number > 0, got " + clipNorm);
    }
    if (!(noiseMultiplier >= 0) || Double.isInfinite(noiseMultiplier)) {
      throw new IllegalArgumentException("the DP-SGD noise multiplier must be a finite number >= 0, got "
          + noiseMultiplier);
    }
    if (!(sampleRate > 0 && sampleRate <= 1)) {
      throw new IllegalArgumentException("the DP-SGD sample rate must be in (0, 1], got " + sampleRate);
    }
    if (stepsPerRound < 1) {
      throw new IllegalArgumentException("a DP-SGD round takes at least one step, got " + stepsPerRound);
    }
  }

  /** One step per round: for a single run where rounds do not matter (tests, benchmarks). */
  public DpSgdSettings(double clipNorm, double noiseMultiplier, double sampleRate) {
    this(clipNorm, noiseMultiplier, sampleRate, 1);
  }

  /**
   * The steps a round takes under Poisson sampling at q = batch / records: the plan's local_steps, or
   * as many as its local_epochs passes take in expectation (epochs / q).
   */
  public static long stepsPerRound(TrainingPlan plan, int records) {
    return stepsPerRound(plan.localSteps(), plan.localEpochs(), plan.batchSize(), records);
  }

  public static long stepsPerRound(int localSteps, int localEpochs, int batchSize, int records) {
    if (localSteps > 0) {
      return localSteps;
    }
    return Math.max(1, (long) Math.ceil((double) localEpochs * records / batchSize));
  }
}
