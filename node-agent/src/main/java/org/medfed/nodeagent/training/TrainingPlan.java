package org.medfed.nodeagent.training;

import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a hospital needs to train one round besides the weights: the model architecture as a
 * DL4J JSON configuration and the hyper-parameters. Arrays are copied in and out.
 *
 * @param proximalMu FedProx's mu (Li et al. 2020, arXiv 1812.06127): local training minimises the
 *     data loss plus mu/2 * ||w - w_global||^2; 0 trains without the proximal term
 * @param localSteps when above 0, a round trains this many minibatch steps (cycling through
 *     reshuffled epochs) instead of {@code localEpochs} passes
 * @param dpSgd when present, the round trains by DP-SGD with these settings instead of plain minibatches
 */
public record TrainingPlan(String modelConfigJson, long parameterCount, long[] inputShape, int numClasses,
    int localEpochs, int batchSize, double learningRate, long seed, double proximalMu, int localSteps,
    Optional<DpSgdSettings> dpSgd) {
  public TrainingPlan {
    if (modelConfigJson == null || modelConfigJson.isBlank()) {
      throw new IllegalArgumentException("training plan has no model configuration");
    }
    if (parameterCount <= 0) {
      throw new IllegalArgumentException("parameterCount must be positive, got " + parameterCount);
    }
    if (localEpochs < 1) {
      throw new IllegalArgumentException("localEpochs must be >= 1, got " + localEpochs);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    if (!(learningRate > 0)) {
      throw new IllegalArgumentException("learningRate must be > 0, got " + learningRate);
    }
    if (!(proximalMu >= 0) || Double.isInfinite(proximalMu)) {
      throw new IllegalArgumentException("proximalMu (FedProx's mu) must be finite and >= 0, got " + proximalMu
          + "; use 0 for no proximal term");
    }
    if (localSteps < 0) {
      throw new IllegalArgumentException("localSteps must be >= 0 (0: train localEpochs passes), got " + localSteps);
    }
    Objects.requireNonNull(dpSgd, "dpSgd");
    inputShape = inputShape.clone();
  }

  /** A plan without DP-SGD. */
  public TrainingPlan(String modelConfigJson, long parameterCount, long[] inputShape, int numClasses,
      int localEpochs, int batchSize, double learningRate, long seed, double proximalMu, int localSteps) {
    this(modelConfigJson, parameterCount, inputShape, numClasses, localEpochs, batchSize, learningRate, seed,
        proximalMu, localSteps, Optional.empty());
  }

  /** A plan for plain local training, without FedProx's proximal term. */
  public TrainingPlan(String modelConfigJson, long parameterCount, long[] inputShape, int numClasses,
      int localEpochs, int batchSize, double learningRate, long seed) {
    this(modelConfigJson, parameterCount, inputShape, numClasses, localEpochs, batchSize, learningRate, seed, 0, 0);
  }

  @Override
  public long[] inputShape() {
    return inputShape.clone();
  }

  /** The same plan trained for a number of local epochs, not steps (used for local-only baselines). */
  public TrainingPlan withLocalEpochs(int epochs) {
    return new TrainingPlan(modelConfigJson, parameterCount, inputShape, numClasses, epochs, batchSize,
        learningRate, seed, proximalMu, 0, dpSgd);
  }

  /**
   * The same plan for a model trained at this hospital alone (a local-only baseline): nothing ties it
   * to the global model, so FedProx's proximal term is dropped.
   */
  public TrainingPlan forLocalOnly() {
    return new TrainingPlan(modelConfigJson, parameterCount, inputShape, numClasses, localEpochs, batchSize,
        learningRate, seed, 0, localSteps, dpSgd);
  }

  /** The odd 64-bit golden-ratio constant: consecutive rounds' seeds land far apart. */
  static final long ROUND_SEED_STRIDE = 0x9E3779B97F4A7C15L;

  /**
   * The plan for one round: the job's seed offset by {@code round} times {@value #ROUND_SEED_STRIDE}.
   * A round's local epochs shuffle with seed + epoch, so with the job's seed itself every round
   * would visit the same minibatches in the same order, the same few last steps deciding each
   * round's update; local training over many epochs in one call reshuffles every epoch. Still
   * deterministic, so a round trained again (a retry, a resumed job) trains alike.
   */
  public TrainingPlan forRound(int round) {
    if (round < 1) {
      throw new IllegalArgumentException("rounds count from 1, got " + round);
    }
    return new TrainingPlan(modelConfigJson, parameterCount, inputShape, numClasses, localEpochs, batchSize,
        learningRate, seed + round * ROUND_SEED_STRIDE, proximalMu, localSteps, dpSgd);
  }

  /** The same plan trained by DP-SGD with {@code settings} (each hospital derives its own). */
  public TrainingPlan withDpSgd(DpSgdSettings settings) {
    return new TrainingPlan(modelConfigJson, parameterCount, inputShape, numClasses, localEpochs, batchSize,
        learningRate, seed, proximalMu, localSteps, Optional.of(settings));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrainingPlan p && modelConfigJson.equals(p.modelConfigJson)
        && parameterCount == p.parameterCount && Arrays.equals(inputShape, p.inputShape)
        && numClasses == p.numClasses && localEpochs == p.localEpochs && batchSize == p.batchSize
        && learningRate == p.learningRate && seed == p.seed && proximalMu == p.proximalMu
        && localSteps == p.localSteps && dpSgd.equals(p.dpSgd);
  }

  @Override
  public int hashCode() {
    return modelConfigJson.hashCode() * 31 + Long.hashCode(seed);
  }

  @Override
  public String toString() {
    return "TrainingPlan[params=" + parameterCount + ", shape=" + Arrays.toString(inputShape) + ", classes="
        + numClasses + ", epochs=" + localEpochs + ", batch=" + batchSize + ", lr=" + learningRate
        + ", mu=" + proximalMu + (localSteps > 0 ? ", steps=" + localSteps : "")
        + dpSgd.map(dp -> ", dp_sgd=" + dp).orElse("") + "]";
  }
}
