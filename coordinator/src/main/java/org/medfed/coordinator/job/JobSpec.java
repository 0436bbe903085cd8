package org.medfed.coordinator.job;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * A validated federated training job. Every constraint is checked here, once, with the offending
 * field named, so that nothing downstream re-validates.
 *
 * @param inputShape per-sample input shape the hospitals' datasets must have
 * @param fractionPerRound share of the eligible connected hospitals selected each round, in (0, 1]
 * @param roundRetries the job's policy for a failed round (too few nodes, deadline, too few
 *     survivors): try it again this many times with fresh tasks and keys, then fail the job
 * @param selection which round's model the job keeps, and whether it stops early
 * @param localSteps when above 0, each round trains this many minibatch steps instead of
 *     {@code localEpochs} passes (FLamby's benchmarks count local work in steps)
 * @param dpSgd record-level differential privacy at every hospital, if the job asks for it
 * @param localBaseline whether each hospital also trains a local-only model with the same budget and
 *     reports its test metrics beside the global model's
 * @param featureScaling whether the hospitals z-score a feature table with the consortium's pooled statistics
 */
public record JobSpec(String name, String dataset, ModelSpec model, long[] inputShape, int numClasses,
    int rounds, int minNodes, double fractionPerRound, int localEpochs, int batchSize, double learningRate,
    long seed, StageDeadlines deadlines, StrategySpec strategy, Optimizer optimizer,
    SecureAggregationSpec secureAggregation, List<String> features, int roundRetries, ModelSelection selection,
    int localSteps, Optional<DpSgdSpec> dpSgd, boolean localBaseline,
    FeatureScaling featureScaling) {

  public JobSpec {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(deadlines, "deadlines");
    Objects.requireNonNull(strategy, "strategy");
    Objects.requireNonNull(optimizer, "optimizer");
    Objects.requireNonNull(secureAggregation, "secureAggregation");
    Objects.requireNonNull(selection, "selection");
    Objects.requireNonNull(dpSgd, "dpSgd");
    Objects.requireNonNull(featureScaling, "featureScaling");
    JobSchema.NAME.check(name);
    JobSchema.DATASET.check(dataset);
    // Only small-cnn3d and cox (on a 3D body) read 4-dimensional inputs; elsewhere a fourth dimension is a typo.
    require(model.volumetric() ? inputShape.length == 4 : model.survival()
        ? inputShape.length == 1 || inputShape.length == 4 : inputShape.length == 1 || inputShape.length == 3,
        "input_shape", model.volumetric() ? "must be [channels, depth, height, width] for small-cnn3d, got "
            + Arrays.toString(inputShape) : model.survival() ? "must be [features] or, for volumes, [channels, depth,"
            + " height, width] for cox, got " + Arrays.toString(inputShape) : "must be [features] or [channels,"
            + " height, width] (or [channels, depth, height, width] with small-cnn3d or cox), got "
            + Arrays.toString(inputShape));
    JobSchema.INPUT_SHAPE.check(Arrays.stream(inputShape).boxed().toList());
    require(model.survival() ? numClasses == 0 : numClasses >= 2, "num_classes", model.survival()
        ? "must be left out for a survival (cox) model, got " + numClasses : "must be >= 2, got " + numClasses);
    JobSchema.ROUNDS.check(rounds);
    JobSchema.MIN_NODES.check(minNodes);
    JobSchema.FRACTION.check(fractionPerRound);
    JobSchema.LOCAL_EPOCHS.check(localEpochs);
    JobSchema.BATCH_SIZE.check(batchSize);
    JobSchema.LOCAL_STEPS.check(localSteps);
    JobSchema.LEARNING_RATE.check(learningRate);
    JobSchema.ROUND_RETRIES.check(roundRetries);
    require(dpSgd.isEmpty() || !model.survival(), "privacy.dp_sgd", "is refused for a cox model: its partial"
        + " likelihood couples the records of a batch (each record's risk set holds the others), so clipping one"
        + " record's gradient does not bound its influence on the model; train cox without DP-SGD");
    require(!(localBaseline && dpSgd.isPresent()), "local_baseline", "cannot be combined with privacy.dp_sgd: the"
        + " local-only model trains on the same records, so its reported metrics would spend each hospital's privacy"
        + " budget a second time, uncounted; run the baseline as its own job without DP-SGD, or turn one of them off");
    boolean consortiumZscore = featureScaling == FeatureScaling.CONSORTIUM_ZSCORE;
    require(!consortiumZscore || inputShape.length == 1, "feature_scaling", "consortium-zscore scales the columns of a"
        + " feature table, input_shape [features], but input_shape is " + Arrays.toString(inputShape) + "; images and"
        + " volumes keep their own scaling, so leave feature_scaling out");
    require(!(consortiumZscore && dpSgd.isPresent()), "feature_scaling", "consortium-zscore cannot be combined with"
        + " privacy.dp_sgd: its means and standard deviations are released to every hospital without noise, outside"
        + " the privacy budget DP-SGD accounts for; scale features at each hospital (the dataset's normalise) or drop"
        + " privacy.dp_sgd");
    features = List.copyOf(features);
    require(features.isEmpty() || inputShape.length == 1 && inputShape[0] == features.size(), "features",
        "names " + features.size() + " features but input_shape is " + Arrays.toString(inputShape)
            + "; input_shape must be [" + features.size() + "]");
    require(features.stream().distinct().count() == features.size(), "features", "names a feature twice");
    inputShape = inputShape.clone();
    require(!(strategy.name().needsEachUpdate() && secureAggregation.enabled()), "strategy.name",
        strategy.name().label() + " needs each hospital's update, but secure_aggregation is on (the default), and "
            + "under secure aggregation the coordinator only ever sees the sum of the updates, so it cannot take a "
            + "median, trim or pick one update; set secure_aggregation: {enabled: false} to use a robust rule "
            + "where the coordinator is trusted to see each update, or choose a mean-based strategy "
            + "(fedavg, fedavgm, fedadagrad, fedadam, fedyogi, fedprox, scaffold)");
    boolean scaffold = strategy.name() == StrategyName.SCAFFOLD;
    require(!(scaffold && dpSgd.isPresent()), "strategy.name", "scaffold is refused together with privacy.dp_sgd:"
        + " DP-SGD takes its noisy steps outside the hook that applies SCAFFOLD's correction, and its noise would"
        + " enter every hospital's control variate, round after round; choose fedavg or a server-side strategy"
        + " (fedavgm, fedadagrad, fedadam, fedyogi) for a DP-SGD job, or drop privacy.dp_sgd");
    require(!(scaffold && model instanceof ModelSpec.BuiltIn && optimizer != Optimizer.SGD), "optimizer",
        "must be sgd with strategy scaffold, got " + optimizer.name().toLowerCase(Locale.ROOT)
            + ": SCAFFOLD reads a hospital's mean corrected gradient back from its weight change, (x - y) / (K * lr),"
            + " which holds only for plain SGD steps; Adam rescales and momentum accumulates them");
  }

  @Override
  public long[] inputShape() {
    return inputShape.clone();
  }

  private static void require(boolean ok, String field, String problem) {
    if (!ok) {
      throw new InvalidJobSpecException(field, problem);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JobSpec s && name.equals(s.name) && dataset.equals(s.dataset) && model.equals(s.model)
        && Arrays.equals(inputShape, s.inputShape) && numClasses == s.numClasses && rounds == s.rounds
        && minNodes == s.minNodes && fractionPerRound == s.fractionPerRound && localEpochs == s.localEpochs
        && batchSize == s.batchSize && learningRate == s.learningRate && seed == s.seed
        && deadlines.equals(s.deadlines) && strategy.equals(s.strategy) && optimizer == s.optimizer
        && secureAggregation.equals(s.secureAggregation) && features.equals(s.features)
        && roundRetries == s.roundRetries && selection.equals(s.selection) && localSteps == s.localSteps
        && dpSgd.equals(s.dpSgd) && localBaseline == s.localBaseline && featureScaling == s.featureScaling;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dataset, model, Arrays.hashCode(inputShape), rounds, seed);
  }

  @Override
  public String toString() {
    return "JobSpec[" + name + ", dataset=" + dataset + ", model=" + model + ", shape="
        + Arrays.toString(inputShape) + ", classes=" + numClasses + ", rounds=" + rounds + ", minNodes="
        + minNodes + ", fraction=" + fractionPerRound + ", epochs=" + localEpochs + (localSteps > 0 ? ", steps=" + localSteps : "") + ", batch=" + batchSize
        + ", lr=" + learningRate + ", optimizer=" + optimizer + ", seed=" + seed + ", strategy=" + strategy + ", secure_aggregation=" + secureAggregation.enabled()
        + (localBaseline ? ", local_baseline" : "")
        + (featureScaling == FeatureScaling.NONE ? "" : ", feature_scaling=" + JobField.label(featureScaling)) + "]";
  }
}
