package org.medfed.examples.results;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.medfed.coordinator.job.DpSgdSpec;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.coordinator.job.ModelSpec;
import org.medfed.coordinator.model.ModelCatalog;
import org.medfed.examples.results.MnistNonIidBenchmark.Epsilon;
import org.medfed.examples.results.MnistNonIidBenchmark.ModelChoice;
import org.medfed.examples.results.MnistNonIidBenchmark.Spent;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.proto.v1.HospitalMetrics;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.RoundRecord;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;

class MnistNonIidBenchmarkTest {

  private static MnistNonIidBenchmark parsed(String... args) {
    MnistNonIidBenchmark benchmark = new MnistNonIidBenchmark();
    new CommandLine(benchmark).parseArgs(args);
    return benchmark;
  }

  @Test
  void job_mlpWithEpsilonAndClip_hasTheDpBlockAndTheFlatMlp() {
    MnistNonIidBenchmark benchmark = parsed("--model", "mlp", "--dp-epsilons", "1,3,inf", "--dp-clip", "0.8",
        "--batch-size", "64", "--optimizer", "sgd", "--learning-rate", "0.1");

    JobSpec spec = JobSpecParser.parse(benchmark.job(7, 5, benchmark.dpEpsilons.get(1)));

    DpSgdSpec dp = spec.dpSgd().orElseThrow();
    assertEquals(3.0, dp.targetEpsilon().orElseThrow());
    assertEquals(0.8, dp.clip());
    assertEquals(1e-5, dp.delta());
    assertEquals(ModelSpec.Architecture.MLP, ((ModelSpec.BuiltIn) spec.model()).architecture());
    assertArrayEquals(new long[] {784}, spec.inputShape());
    assertEquals(64, spec.batchSize());
    assertEquals(5, spec.rounds());
    assertEquals(0.1, spec.learningRate());
    // The catalog builds the MLP on 784 inputs.
    assertTrue(ModelCatalog.initialModel(spec).parameterCount() > 784 * 128);
  }

  @Test
  void job_infinityAmongTheEpsilons_runsThatJobWithoutDp() {
    MnistNonIidBenchmark benchmark = parsed("--model", "mlp", "--dp-epsilons", "1,3,inf");

    assertEquals(List.of(new Epsilon(1), new Epsilon(3), Epsilon.NONE), benchmark.dpEpsilons);
    assertTrue(JobSpecParser.parse(benchmark.job(1, 5, benchmark.dpEpsilons.get(2))).dpSgd().isEmpty());
  }

  @Test
  void job_noOptions_isTheSmallCnnWithoutDpAsBefore() {
    MnistNonIidBenchmark benchmark = parsed();

    assertEquals(List.of(Epsilon.NONE), benchmark.dpEpsilons);
    JobSpec spec = JobSpecParser.parse(benchmark.job(1, 30, benchmark.dpEpsilons.get(0)));
    assertTrue(spec.dpSgd().isEmpty());
    assertEquals(ModelSpec.Architecture.SMALL_CNN, ((ModelSpec.BuiltIn) spec.model()).architecture());
    assertArrayEquals(new long[] {1, 28, 28}, spec.inputShape());
    assertEquals(10, spec.batchSize());
  }

  @Test
  void parse_badEpsilonOrModel_namesTheValue() {
    var epsilon = assertThrows(CommandLine.ParameterException.class, () -> parsed("--dp-epsilons", "0"));
    assertTrue(epsilon.getMessage().contains("'0'"), epsilon.getMessage());
    var model = assertThrows(CommandLine.ParameterException.class, () -> parsed("--model", "resnet"));
    assertTrue(model.getMessage().contains("'resnet'"), model.getMessage());
  }

  @Test
  void prepare_mlp_flattensTheLoadersImagesRowMajor() {
    INDArray images = Nd4j.rand(new int[] {2, 1, 28, 28});
    LocalDataset loaded = new LocalDataset("digits", DatasetKind.IMAGING, new long[] {1, 28, 28}, List.of("0", "1"),
        new DataSet(images, Nd4j.eye(2)), new DataSet(images.dup(), Nd4j.eye(2)));

    LocalDataset flat = ModelChoice.MLP.prepare(loaded);

    assertArrayEquals(new long[] {784}, flat.inputShape());
    assertArrayEquals(new long[] {2, 784}, flat.train().getFeatures().shape());
    assertEquals(images.getDouble(1, 0, 3, 5), flat.train().getFeatures().getDouble(1, 3 * 28 + 5));
    assertEquals(loaded, ModelChoice.SMALL_CNN.prepare(loaded));
  }

  @Test
  void spent_lastRoundsEvaluations_givesTheLowestAndHighestHospital() {
    JobDetail detail = JobDetail.newBuilder()
        .addRounds(RoundRecord.newBuilder().setRound(1)
            .putEvaluations("site-0", HospitalMetrics.newBuilder().putMetrics("dp_epsilon", 0.5).build()))
        .addRounds(RoundRecord.newBuilder().setRound(2)
            .putEvaluations("site-0", HospitalMetrics.newBuilder().putMetrics("dp_epsilon", 2.95).build())
            .putEvaluations("site-1", HospitalMetrics.newBuilder().putMetrics("dp_epsilon", 2.99)
                .putMetrics("accuracy", 0.9).build()))
        .build();

    assertEquals("2.950–2.990", Spent.of(detail).toString());
    assertEquals("—", Spent.of(JobDetail.newBuilder().addRounds(RoundRecord.newBuilder().setRound(1)
        .putEvaluations("site-0", HospitalMetrics.newBuilder().putMetrics("accuracy", 0.9).build())).build())
        .toString());
  }
}
