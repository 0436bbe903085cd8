package org.medfed.nodeagent.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class Dl4jTrainerTest {
  private static final String LOGISTIC = new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(0.05)).list()
      .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(2).nOut(2).activation(Activation.SOFTMAX).build())
      .build().toJson();


  private static float[] initial() {
    MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(LOGISTIC));
    net.init();
    return net.params().dup().data().asFloat();
  }

  @Test
  void train_onSeparableData_learnsAndReportsSamplesAndLoss() {
    LocalDataset data = new LocalDataset("d", DatasetKind.GENOMIC, new long[] {2}, List.of("a", "b"),
        Separable.records(1, 200), Separable.records(2, 100));
    TrainingPlan plan = new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 5, 20, 0.05, 3);
    Dl4jTrainer trainer = new Dl4jTrainer();

    LocalTrainer.Trained trained = trainer.train(plan, initial(), data, CancellationToken.none());
    LocalTrainer.Evaluated evaluated = trainer.evaluate(plan, trained.parameters(), data);

    assertEquals(200, trained.numSamples());
    assertTrue(trained.metrics().get("train_loss") < 0.5, trained.metrics().toString());
    assertTrue(evaluated.metrics().get("accuracy") > 0.9, evaluated.metrics().toString());
    assertEquals(100, evaluated.numSamples());
  }

  @Test
  void release_freesTheNetworksOffHeapArrays_andTrainingStillReturnsItsParameters() {
    TrainingPlan plan = new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 1, 10, 0.05, 3);
    MultiLayerNetwork net = Dl4jTrainer.network(plan, initial());
    net.fit(Separable.records(1, 10));
    INDArray params = net.params();
    INDArray gradients = net.getFlattenedGradients();
    INDArray updaterState = net.getUpdater(false).getStateViewArray();

    Dl4jTrainer.release(net);

    assertTrue(params.wasClosed() && gradients.wasClosed() && updaterState.wasClosed());
    LocalDataset data = new LocalDataset("d", DatasetKind.GENOMIC, new long[] {2}, List.of("a", "b"),
        Separable.records(1, 40), Separable.records(2, 10));
    float[] trained = new Dl4jTrainer().train(plan, initial(), data, CancellationToken.none()).parameters();
    assertEquals(6, trained.length);
    assertTrue(distance(trained, initial()) > 0, "the parameters were read before the network was released");
  }

  @Test
  void localSteps_trainThatManyMinibatches_acrossReshuffledEpochs() {
    // 40 records in batches of 10: 4 steps per epoch.
    LocalDataset data = new LocalDataset("d", DatasetKind.GENOMIC, new long[] {2}, List.of("a", "b"),
        Separable.records(1, 40), Separable.records(2, 10));
    Dl4jTrainer trainer = new Dl4jTrainer();
    float[] oneEpoch = trainer.train(new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 1, 10, 0.05, 3),
        initial(), data, CancellationToken.none()).parameters();
    float[] threeEpochs = trainer.train(new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 3, 10, 0.05, 3),
        initial(), data, CancellationToken.none()).parameters();

    assertArrayEquals(oneEpoch, trainWithSteps(trainer, data, 4), "4 steps are one epoch");
    assertArrayEquals(threeEpochs, trainWithSteps(trainer, data, 12), "12 steps are three epochs, reshuffled");
    float[] tenSteps = trainWithSteps(trainer, data, 10);
    assertTrue(distance(tenSteps, threeEpochs) > 0 && distance(tenSteps, trainWithSteps(trainer, data, 8)) > 0,
        "10 steps stop half-way through the third epoch");
  }

  @Test
  void train_twoRoundsFromTheSameWeights_visitTheMinibatchesInDifferentOrders() {
    // One epoch of 4 batches from the same weights: only the order of the minibatches can differ.
    LocalDataset data = new LocalDataset("d", DatasetKind.GENOMIC, new long[] {2}, List.of("a", "b"),
        Separable.records(1, 40), Separable.records(2, 10));
    Dl4jTrainer trainer = new Dl4jTrainer();
    TrainingPlan job = new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 1, 10, 0.05, 3);

    float[] round1 = trainer.train(job.forRound(1), initial(), data, CancellationToken.none()).parameters();
    float[] round1Again = trainer.train(job.forRound(1), initial(), data, CancellationToken.none()).parameters();
    float[] round2 = trainer.train(job.forRound(2), initial(), data, CancellationToken.none()).parameters();

    assertArrayEquals(round1, round1Again, "a round trained again trains alike");
    assertTrue(distance(round1, round2) > 0, "round 2 reshuffles");
  }

  private static float[] trainWithSteps(Dl4jTrainer trainer, LocalDataset data, int steps) {
    // local_epochs is ignored when local_steps is set; 7 shows it.
    return trainer.train(new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 7, 10, 0.05, 3, 0, steps), initial(), data,
        CancellationToken.none()).parameters();
  }

  @Test
  void train_cancelled_stopsWithTheReason() {
    LocalDataset data = new LocalDataset("d", DatasetKind.GENOMIC, new long[] {2}, List.of("a", "b"),
        Separable.records(1, 50), Separable.records(2, 10));
    TrainingPlan plan = new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 1, 10, 0.05, 3);
    CancellationToken token = new CancellationToken();
    token.cancel("round deadline passed");

    var e = assertThrows(CancellationToken.CancelledException.class,
        () -> new Dl4jTrainer().train(plan, initial(), data, token));

    assertEquals("cancelled: round deadline passed", e.getMessage());
  }

  @Test
  void network_parameterCountMismatch_isRefusedWithBothCounts() {
    TrainingPlan plan = new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 1, 10, 0.05, 3);

    var e = assertThrows(IllegalArgumentException.class, () -> Dl4jTrainer.network(plan, new float[5]));

    assertEquals("model has 6 parameters but the job sent 5 (plan says 6)", e.getMessage());
  }

  // FedProx (Li et al. 2020): a single weight, no bias, identity activation and MSE, so each step can
  // be written out. DL4J's MSE with one output is (w x - y)^2 per example, averaged over the minibatch:
  // the data gradient is mean(2 (w x - y) x). Plain SGD: w <- w - eta * (data gradient + mu (w - w_global)).
  private static final String ONE_WEIGHT = new NeuralNetConfiguration.Builder().updater(new Sgd(0.1)).list()
      .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(1).nOut(1).hasBias(false)
          .activation(Activation.IDENTITY).build())
      .build().toJson();

  private static LocalDataset oneFeature(float[] x, float[] y) {
    DataSet train = new DataSet(Nd4j.create(x, new long[] {x.length, 1}), Nd4j.create(y, new long[] {y.length, 1}));
    return new LocalDataset("d", DatasetKind.CLINICAL, new long[] {1}, List.of("y"), train, train);
  }

  private static float trainOneWeight(LocalDataset data, int epochs, int batchSize, double mu) {
    TrainingPlan plan = new TrainingPlan(ONE_WEIGHT, 1, new long[] {1}, 0, epochs, batchSize, 0.1, 3, mu, 0);
    return new Dl4jTrainer().train(plan, new float[] {0.5f}, data, CancellationToken.none()).parameters()[0];
  }

  @Test
  void train_withProximalMu_takesTheHandComputedSgdSteps() {
    // Given x = [1, 2], y = [2, 4] in one minibatch of 2: data gradient = 5w - 10; eta = 0.1,
    // mu = 0.5, w0 = w_global = 0.5; two epochs, so two steps.
    LocalDataset data = oneFeature(new float[] {1, 2}, new float[] {2, 4});

    float plain = trainOneWeight(data, 2, 2, 0);
    float proximal = trainOneWeight(data, 2, 2, 0.5);

    // Step 1, w = w_global, no proximal pull: w1 = 0.5 - 0.1 * (2.5 - 10) = 1.25.
    // Step 2 without mu: w2 = 1.25 - 0.1 * (6.25 - 10) = 1.625.
    // Step 2 with mu: the gradient gains 0.5 * (1.25 - 0.5) = 0.375: w2 = 1.25 - 0.1 * (-3.75 + 0.375) = 1.5875,
    // i.e. -eta * mu * (w1 - w_global) = -0.0375 from the plain step. A term not scaled to DL4J's
    // per-minibatch division would give 1.60625 (halved) or 1.55 (doubled).
    assertEquals(1.625f, plain, 1e-5f);
    assertEquals(1.5875f, proximal, 1e-5f);
  }

  @Test
  void train_withProximalMu_scalesAShortLastMinibatchByItsOwnSize() {
    // Given three equal examples x = 1, y = 2 in minibatches of 2 then 1: data gradient = 2w - 4
    // whichever examples a batch holds; eta = 0.1, mu = 0.5, w0 = w_global = 0.5; one epoch.
    LocalDataset data = oneFeature(new float[] {1, 1, 1}, new float[] {2, 2, 2});

    float proximal = trainOneWeight(data, 1, 2, 0.5);

    // Step 1 (2 examples): w1 = 0.5 - 0.1 * (1 - 4) = 0.8.
    // Step 2 (1 example): gradient 1.6 - 4 + 0.5 * (0.8 - 0.5) = -2.25: w2 = 0.8 + 0.225 = 1.025
    // (scaling by the plan's batch size of 2 instead would give 1.01).
    assertEquals(1.025f, proximal, 1e-5f);
  }

  @Test
  void train_withProximalMuAndAdam_matchesDl4jsOwnL2PenaltyAroundZero() {
    // With w_global = 0 the proximal term mu/2 ||w||^2 is DL4J's L2 regularisation with coefficient mu,
    // which DL4J adds to the averaged gradient before its updater. Adam rescales whatever gradient it
    // is given, so this only holds if the proximal term reaches the updater likewise, scaled alike.
    double mu = 0.3;
    String adam = new NeuralNetConfiguration.Builder().updater(new Adam(0.05)).list()
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(2).nOut(2).hasBias(false)
            .activation(Activation.SOFTMAX).build())
        .build().toJson();
    String adamWithL2 = new NeuralNetConfiguration.Builder().updater(new Adam(0.05)).l2(mu).list()
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(2).nOut(2).hasBias(false)
            .activation(Activation.SOFTMAX).build())
        .build().toJson();
    LocalDataset data = new LocalDataset("d", DatasetKind.GENOMIC, new long[] {2}, List.of("a", "b"),
        Separable.records(1, 50), Separable.records(2, 10));
    Dl4jTrainer trainer = new Dl4jTrainer();
    float[] zeros = new float[4];

    float[] proximal = trainer.train(new TrainingPlan(adam, 4, new long[] {2}, 2, 3, 16, 0.05, 3, mu, 0), zeros,
        data, CancellationToken.none()).parameters();
    float[] l2 = trainer.train(new TrainingPlan(adamWithL2, 4, new long[] {2}, 2, 3, 16, 0.05, 3, 0, 0), zeros,
        data, CancellationToken.none()).parameters();
    float[] plain = trainer.train(new TrainingPlan(adam, 4, new long[] {2}, 2, 3, 16, 0.05, 3, 0, 0), zeros,
        data, CancellationToken.none()).parameters();

    assertArrayEquals(l2, proximal, 1e-5f);
    assertTrue(Math.abs(plain[0] - proximal[0]) > 1e-3, "the proximal term must make a difference here");
  }

  @Test
  void train_withProximalMu_staysCloserToTheGlobalWeights() {
    LocalDataset data = new LocalDataset("d", DatasetKind.GENOMIC, new long[] {2}, List.of("a", "b"),
        Separable.records(1, 200), Separable.records(2, 100));
    float[] global = initial();
    Dl4jTrainer trainer = new Dl4jTrainer();

    LocalTrainer.Trained plain = trainer.train(new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 5, 20, 0.05, 3, 0, 0),
        global, data, CancellationToken.none());
    LocalTrainer.Trained proximal = trainer.train(new TrainingPlan(LOGISTIC, 6, new long[] {2}, 2, 5, 20, 0.05, 3, 1.0, 0),
        global, data, CancellationToken.none());

    double plainDistance = distance(plain.parameters(), global);
    double proximalDistance = distance(proximal.parameters(), global);
    assertTrue(proximalDistance < 0.8 * plainDistance,
        "with mu: " + proximalDistance + ", without: " + plainDistance);
    assertTrue(proximal.metrics().get("train_loss") < 0.69, proximal.metrics().toString());
  }

  private static double distance(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += (a[i] - b[i]) * (double) (a[i] - b[i]);
    }
    return Math.sqrt(sum);
  }
}
