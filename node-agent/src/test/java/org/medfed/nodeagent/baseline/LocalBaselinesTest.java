package org.medfed.nodeagent.baseline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.Separable;
import org.medfed.nodeagent.training.TrainingPlan;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class LocalBaselinesTest {
  private static final String LOGISTIC = new NeuralNetConfiguration.Builder().seed(1).updater(new Sgd(0.1)).list()
      .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(2).nOut(2).activation(Activation.SOFTMAX)
          .build())
      .build().toJson();
  private static final TrainingPlan PLAN = new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 1, 20, 0.1, 3);
  private static final LocalDataset DATA = new LocalDataset("scans", DatasetKind.GENOMIC, new long[] {2},
      List.of("a", "b"), Separable.records(1, 100), Separable.records(2, 50));

  @TempDir Path stateDir;


  private static float[] initial() {
    MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(LOGISTIC));
    net.init();
    return net.params().dup().data().asFloat();
  }

  private static LocalBaselines.Stored trainRound(LocalBaselines baselines, int round, float[] global) {
    try (LocalBaselines.Ticket ticket = baselines.expect("job-1", "scans")) {
      return ticket.train(round, PLAN, () -> global, DATA, CancellationToken.none());
    }
  }

  @Test
  void eachRoundTrainsOneRoundsWork_fromTheFirstGlobalModel_exactlyAsPlainTrainingWould() {
    Dl4jTrainer trainer = new Dl4jTrainer();
    LocalBaselines baselines = new LocalBaselines(stateDir, trainer);
    float[] first = initial();

    trainRound(baselines, 1, first);
    // Later rounds bring other global models; the local-only model ignores them.
    LocalBaselines.Stored stored = trainRound(baselines, 2, new float[6]);

    float[] expected = trainer.train(PLAN, trainer.train(PLAN, first, DATA, CancellationToken.none()).parameters(),
        DATA, CancellationToken.none()).parameters();
    assertArrayEquals(expected, stored.parameters());
    assertEquals(1, stored.firstRound());
    assertEquals(2, stored.lastRound());
    assertEquals(2, stored.roundsTrained());
  }

  @Test
  void aRoundTrainedAgain_isNotCountedTwice_andARestartGoesOnFromDisk() {
    float[] first = initial();
    LocalBaselines before = new LocalBaselines(stateDir, new Dl4jTrainer());
    trainRound(before, 1, first);
    LocalBaselines.Stored once = trainRound(before, 2, first);
    LocalBaselines.Stored retried = trainRound(before, 2, first);
    assertArrayEquals(once.parameters(), retried.parameters());
    assertEquals(2, retried.roundsTrained());

    LocalBaselines restarted = new LocalBaselines(stateDir, new Dl4jTrainer());
    assertArrayEquals(once.parameters(), restarted.load("job-1", "scans").orElseThrow().parameters());
    assertEquals(3, trainRound(restarted, 4, first).roundsTrained());
  }

  @Test
  void evaluate_reportsTheLocalModelsMetricsAsLocal_orNothingBeforeItTrained() throws Exception {
    LocalBaselines baselines = new LocalBaselines(stateDir, new Dl4jTrainer());
    assertTrue(baselines.evaluate("job-1", "scans", PLAN, DATA, Duration.ofSeconds(1)).isEmpty());

    trainRound(baselines, 1, initial());
    Map<String, Double> metrics = baselines.evaluate("job-1", "scans", PLAN, DATA, Duration.ofSeconds(1)).orElseThrow();

    assertEquals(1.0, metrics.get("local_rounds"));
    assertTrue(metrics.get("local_accuracy") > 0.8, metrics.toString());
    assertTrue(metrics.keySet().stream().allMatch(name -> name.startsWith("local_")), metrics.toString());
  }

  @Test
  void anEvaluationWaitsForTheRoundStillTraining() throws Exception {
    LocalBaselines baselines = new LocalBaselines(stateDir, new Dl4jTrainer());
    LocalBaselines.Ticket ticket = baselines.expect("job-1", "scans");
    CompletableFuture<Map<String, Double>> evaluation = CompletableFuture.supplyAsync(() -> {
      try {
        return baselines.evaluate("job-1", "scans", PLAN, DATA, Duration.ofMinutes(1)).orElseThrow();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    ticket.train(1, PLAN, LocalBaselinesTest::initial, DATA, CancellationToken.none());
    assertFalse(evaluation.isDone(), "the evaluation waits until the ticket closes");
    ticket.close();
    assertEquals(1.0, evaluation.get().get("local_rounds"));

    baselines.expect("job-1", "scans");
    assertThrows(TimeoutException.class,
        () -> baselines.evaluate("job-1", "scans", PLAN, DATA, Duration.ofMillis(50)));
  }

  @Test
  void aCorruptFile_isNamedWithTheRemedy() throws Exception {
    LocalBaselines baselines = new LocalBaselines(stateDir, new Dl4jTrainer());
    trainRound(baselines, 1, initial());
    Path file;
    try (var files = Files.list(stateDir.resolve("baselines"))) {
      file = files.findFirst().orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(file);
    bytes[40] ^= 1;
    Files.write(file, bytes);

    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> baselines.load("job-1", "scans"));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("SHA-256")
        && e.getMessage().contains("delete the file"), e.getMessage());
  }
}
