package org.medfed.sparktrainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.DpSgdSettings;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.nodeagent.training.TrainerChoice;
import org.medfed.nodeagent.training.Trainers;
import org.medfed.nodeagent.training.TrainingPlan;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A real Spark on {@code local[2,4]}: two threads, as {@code local[2]}, and up to four attempts per
 * task, since plain {@code local[N]} never retries a failed task. One context for the class, made
 * the way an agent makes it: through agent.yaml's trainer choice and the ServiceLoader.
 */
class SparkTrainerTest {
  private static final String MLP = new NeuralNetConfiguration.Builder().seed(7).updater(new Sgd(0.2)).list()
      .layer(new DenseLayer.Builder().nIn(2).nOut(4).activation(Activation.TANH).build())
      .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2).activation(Activation.SOFTMAX)
          .build())
      .build().toJson();
  private static final int PARAMS = 2 * 4 + 4 + 4 * 2 + 2;
  private static final TrainingPlan PLAN = new TrainingPlan(MLP, PARAMS, new long[] {2}, 2, 2, 4, 0.2, 11);
  private static final float TOLERANCE = 1e-6f;
  /** Attempts of the failing partition; tasks run in this JVM under local mode. */
  private static final AtomicInteger ATTEMPTS = new AtomicInteger();

  private static SparkTrainer spark;

  @BeforeAll
  static void startSpark() {
    spark = (SparkTrainer) Trainers.create(new TrainerChoice("spark", Map.of("master", "local[2,4]",
        "spark.driver.bindAddress", "127.0.0.1", "spark.driver.host", "127.0.0.1")));
  }

  @AfterAll
  static void stopSpark() {
    spark.close();
  }

  private static DataSet records(long seed, int n) {
    Random random = new Random(seed);
    float[][] x = new float[n][2];
    float[][] y = new float[n][2];
    for (int i = 0; i < n; i++) {
      int label = i % 3 == 0 ? 1 : 0;
      x[i][0] = (label == 0 ? -1 : 1) + 0.5f * (float) random.nextGaussian();
      x[i][1] = (float) random.nextGaussian();
      y[i][label] = 1;
    }
    return new DataSet(Nd4j.create(x), Nd4j.create(y));
  }

  private static LocalDataset hospital(DataSet train) {
    return new LocalDataset("wards", DatasetKind.GENOMIC, new long[] {2}, List.of("a", "b"), train, records(99, 20));
  }

  private static float[] initial() {
    MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(MLP));
    net.init();
    return net.params().dup().data().asFloat();
  }

  private static LocalTrainer.Trained plainFit(DataSet train) {
    return new Dl4jTrainer().train(PLAN, initial(), hospital(train), CancellationToken.none());
  }

  @Test
  void train_onePartition_equalsPlainDl4jTrainingWithTheSameSeed() {
    DataSet train = records(1, 30);

    LocalTrainer.Trained onSpark = spark.with(1, PartitionFit.DL4J).train(PLAN, initial(), hospital(train),
        CancellationToken.none());

    LocalTrainer.Trained plain = plainFit(train);
    assertArrayEquals(plain.parameters(), onSpark.parameters(), TOLERANCE);
    assertEquals(30, onSpark.numSamples());
    assertEquals(plain.metrics().get("train_loss"), onSpark.metrics().get("train_loss"), 1e-6);
    assertFalse(java.util.Arrays.equals(initial(), onSpark.parameters()), "it trained");
  }

  @Test
  void train_threePartitions_equalsTheSampleWeightedAverageOfEachPartitionsOwnFit() {
    // 25 records in 3 partitions: records 0-8, 9-16 and 17-24, weighted 9, 8 and 8.
    DataSet train = records(2, 25);

    LocalTrainer.Trained onSpark = spark.with(3, PartitionFit.DL4J).train(PLAN, initial(), hospital(train),
        CancellationToken.none());

    float[] first = plainFit(range(train, 0, 9)).parameters();
    float[] second = plainFit(range(train, 9, 17)).parameters();
    float[] third = plainFit(range(train, 17, 25)).parameters();
    float[] expected = new float[PARAMS];
    for (int i = 0; i < PARAMS; i++) {
      expected[i] = (float) ((9.0 * first[i] + 8.0 * second[i] + 8.0 * third[i]) / 25.0);
    }
    assertArrayEquals(expected, onSpark.parameters(), TOLERANCE);
    assertEquals(25, onSpark.numSamples());
    float[] unweighted = new float[PARAMS];
    for (int i = 0; i < PARAMS; i++) {
      unweighted[i] = (first[i] + second[i] + third[i]) / 3;
    }
    assertTrue(maxDifference(unweighted, onSpark.parameters()) > 10 * TOLERANCE,
        "the records weight the average, not the partitions");
  }

  private static DataSet range(DataSet train, int from, int to) {
    return (DataSet) train.getRange(from, to);
  }

  private static float maxDifference(float[] a, float[] b) {
    float max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  @Test
  void train_partitionFailsOnItsFirstAttempt_isRetriedBySparkAndGivesTheSameWeights() {
    DataSet train = records(3, 20);
    ATTEMPTS.set(0);
    PartitionFit failsOnce = (recipe, global, share) -> {
      if (TaskContext.getPartitionId() == 1) {
        ATTEMPTS.incrementAndGet();
        if (TaskContext.get().attemptNumber() == 0) {
          throw new IllegalStateException("executor lost on its first attempt");
        }
      }
      return PartitionFit.DL4J.fit(recipe, global, share);
    };

    LocalTrainer.Trained retried = spark.with(2, failsOnce).train(PLAN, initial(), hospital(train),
        CancellationToken.none());

    assertEquals(2, ATTEMPTS.get(), "partition 1 failed once and was run again");
    LocalTrainer.Trained clean = spark.with(2, PartitionFit.DL4J).train(PLAN, initial(), hospital(train),
        CancellationToken.none());
    assertArrayEquals(clean.parameters(), retried.parameters(), TOLERANCE);
  }

  @Test
  void train_partitionFailsEveryAttempt_failsTheRoundNamingTheCause() {
    PartitionFit alwaysFails = (recipe, global, share) -> {
      throw new IllegalStateException("disk full on executor");
    };

    var e = assertThrows(IllegalStateException.class, () -> spark.with(2, alwaysFails).train(PLAN, initial(),
        hospital(records(4, 10)), CancellationToken.none()));

    assertTrue(e.getMessage().contains("disk full on executor"), e.getMessage());
    assertTrue(e.getMessage().contains("spark.task.maxFailures"), e.getMessage());
  }

  @Test
  void train_dpSgdPlan_isRefusedBeforeAnythingRuns() {
    TrainingPlan dp = PLAN.withDpSgd(new DpSgdSettings(1.0, 1.1, 0.5, 10));

    var e = assertThrows(IllegalArgumentException.class,
        () -> spark.train(dp, initial(), hospital(records(5, 10)), CancellationToken.none()));

    assertTrue(e.getMessage().startsWith("the spark trainer does not train by DP-SGD"), e.getMessage());
  }

  @Test
  void train_scaffoldCorrection_isRefusedNamingTheAlternatives() {
    var e = assertThrows(UnsupportedOperationException.class, () -> spark.train(PLAN, initial(),
        new float[PARAMS], hospital(records(6, 10)), CancellationToken.none()));

    assertTrue(e.getMessage().contains("trainer kind dl4j"), e.getMessage());
  }

  @Test
  void train_cancelledRound_stopsWithTheReason() {
    CancellationToken token = new CancellationToken();
    token.cancel("round deadline passed");

    var e = assertThrows(CancellationToken.CancelledException.class,
        () -> spark.train(PLAN, initial(), hospital(records(7, 10)), token));

    assertEquals("cancelled: round deadline passed", e.getMessage());
  }

  @Test
  void evaluate_onTheDriver_matchesThePlainTrainer() {
    LocalDataset data = hospital(records(8, 10));
    float[] weights = plainFit(records(8, 10)).parameters();

    assertEquals(new Dl4jTrainer().evaluate(PLAN, weights, data), spark.evaluate(PLAN, weights, data));
  }
}
