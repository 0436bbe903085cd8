package org.medfed.sparktrainer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.nodeagent.training.TrainingPlan;

/**
 * A hospital's local round on Apache Spark. The round's global weights are broadcast; each partition
 * trains them on its share of the training records with the agent's own {@link Dl4jTrainer}
 * ({@link PartitionFit#DL4J}); the driver averages the partitions' weights, each weighted by its
 * number of records, as FedAvg weights hospitals (McMahan et al. 2017, arXiv 1602.05629), and as
 * DL4J's retired ParameterAveragingTrainingMaster did once per averaging period. The agent sends
 * that one update, so secure aggregation, DP accounting and job approval see no difference.
 *
 * <p>Each partition runs the plan's local epochs (or {@code local_steps}) on its share, with a fresh
 * optimiser and, under FedProx, the proximal term to the broadcast weights. With one partition the
 * result is the plain trainer's. Refused: DP-SGD plans (their accountant counts Poisson-sampled
 * steps over the whole dataset, which per-partition training would not take) and SCAFFOLD's
 * corrected steps (its control variate reads one chain of SGD steps back from the weight change).
 *
 * <p>Spark retries a failed task (up to {@code spark.task.maxFailures} on a cluster, F in
 * {@code local[N,F]}); a partition's training is seeded, so a retry gives the same weights.
 * Evaluation runs on the driver, with the plain trainer. Thread-safe: an agent running tasks of
 * several jobs calls it from several threads, and Spark runs their jobs side by side.
 */
public final class SparkTrainer implements LocalTrainer, AutoCloseable {
  private final JavaSparkContext spark;
  private final boolean ownsContext;
  private final int partitions;
  private final PartitionFit fit;
  private final Dl4jTrainer driver = new Dl4jTrainer();

  /**
   * A trainer on a context the caller owns and closes.
   *
   * @param partitions how many partitions share the records; 0 for Spark's default parallelism
   */
  public SparkTrainer(JavaSparkContext spark, int partitions) {
    this(spark, false, partitions, PartitionFit.DL4J);
  }

  SparkTrainer(JavaSparkContext spark, boolean ownsContext, int partitions, PartitionFit fit) {
    if (partitions < 0) {
      throw new IllegalArgumentException("partitions must be >= 1, or 0 for Spark's default parallelism, got "
          + partitions);
    }
    this.spark = spark;
    this.ownsContext = ownsContext;
    this.partitions = partitions;
    this.fit = fit;
  }

  /** The same context with another partition count or partition function (tests). */
  SparkTrainer with(int partitionCount, PartitionFit partitionFit) {
    return new SparkTrainer(spark, false, partitionCount, partitionFit);
  }

  JavaSparkContext context() {
    return spark;
  }

  /**
   * @throws IllegalArgumentException for a DP-SGD plan, or a model the plan and weights do not fit
   * @throws CancellationToken.CancelledException when cancelled; the Spark job is cancelled with it
   * @throws IllegalStateException when a partition failed on every attempt Spark allows
   */
  @Override
  public Trained train(TrainingPlan plan, float[] globalParameters, LocalDataset dataset, CancellationToken cancel) {
    if (plan.dpSgd().isPresent()) {
      throw new IllegalArgumentException("the spark trainer does not train by DP-SGD: the privacy accountant counts"
          + " Poisson-sampled steps over this hospital's whole dataset, which training each partition apart and"
          + " averaging would not take; train this hospital with trainer kind dl4j (remove agent.yaml's trainer"
          + " section), or run the job without privacy.dp_sgd");
    }
    // The driver builds the network once, so a bad configuration or weight count fails here, with
    // the plain trainer's message, rather than as a task failure Spark retries.
    Dl4jTrainer.network(plan, globalParameters);
    cancel.throwIfCancelled();
    int count = partitions > 0 ? partitions : spark.defaultParallelism();
    List<byte[]> shares = Shares.split(dataset.train(), count).stream().map(Shares::write).toList();
    if (shares.isEmpty()) {
      return new Trained(globalParameters, 0, Map.of("train_loss", Double.NaN), 0);
    }
    Broadcast<float[]> weights = spark.broadcast(globalParameters.clone());
    try {
      // Locals only: the closure must not capture this trainer, which Spark cannot serialise.
      Recipe recipe = Recipe.of(plan);
      PartitionFit partitionFit = fit;
      JavaFutureAction<List<PartitionResult>> job = spark.parallelize(shares, shares.size())
          .map(share -> partitionFit.fit(recipe, weights.value(), share))
          .collectAsync();
      return average(await(job, cancel));
    } finally {
      weights.destroy();
    }
  }

  /** SCAFFOLD is refused: see the class comment. */
  @Override
  public Trained train(TrainingPlan plan, float[] globalParameters, float[] gradientCorrection, LocalDataset dataset,
      CancellationToken cancel) {
    throw new UnsupportedOperationException("the spark trainer does not take SCAFFOLD's corrected local steps: its"
        + " control variate reads one chain of SGD steps back from the weight change, and averaged partitions are"
        + " not one chain; train this hospital with trainer kind dl4j, or run the job with fedavg or fedprox");
  }

  /** Waits for the job in one-second slices, so that a cancelled round stops its Spark job too. */
  private static List<PartitionResult> await(JavaFutureAction<List<PartitionResult>> job, CancellationToken cancel) {
    while (true) {
      try {
        return job.get(1, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        if (cancel.isCancelled()) {
          job.cancel(true);
          cancel.throwIfCancelled();
        }
      } catch (InterruptedException e) {
        job.cancel(true);
        Thread.currentThread().interrupt();
        throw new CancellationToken.CancelledException("the agent was interrupted while Spark trained");
      } catch (ExecutionException e) {
        throw new IllegalStateException("Spark training failed after the retries Spark allows (raise"
            + " spark.task.maxFailures, or F in local[N,F], to allow more): " + e.getCause().getMessage(), e.getCause());
      }
    }
  }

  /**
   * The partitions' weights averaged, each weighted by its records: sum(n_k w_k) / sum(n_k), in
   * double precision. train_loss is the same weighted mean; steps the longest partition's.
   */
  static Trained average(List<PartitionResult> results) {
    long samples = 0;
    double lossSum = 0;
    long steps = 0;
    double[] sum = new double[results.get(0).parameters().length];
    for (PartitionResult result : results) {
      float[] parameters = result.parameters();
      if (parameters.length != sum.length) {
        throw new IllegalStateException("partitions returned " + sum.length + " and " + parameters.length
            + " parameters");
      }
      for (int i = 0; i < sum.length; i++) {
        sum[i] += result.samples() * (double) parameters[i];
      }
      samples += result.samples();
      lossSum += result.samples() * result.trainLoss();
      steps = Math.max(steps, result.steps());
    }
    float[] averaged = new float[sum.length];
    for (int i = 0; i < sum.length; i++) {
      averaged[i] = (float) (sum[i] / samples);
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("train_loss", lossSum / samples);
    return new Trained(averaged, samples, metrics, steps);
  }

  /** On the driver, with the plain trainer: a held-out split is small beside the training records. */
  @Override
  public Evaluated evaluate(TrainingPlan plan, float[] parameters, LocalDataset dataset) {
    return driver.evaluate(plan, parameters, dataset);
  }

  /** Stops the SparkContext if this trainer made it (agent.yaml's trainer); a caller's stays open. */
  @Override
  public void close() {
    if (ownsContext) {
      spark.stop();
    }
  }

  @Override
  public String toString() {
    return "SparkTrainer[master=" + spark.master() + ", partitions="
        + (partitions > 0 ? Integer.toString(partitions) : "default (" + spark.defaultParallelism() + ")") + "]";
  }
}
