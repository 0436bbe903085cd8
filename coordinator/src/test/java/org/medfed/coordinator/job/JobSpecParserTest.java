package org.medfed.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JobSpecParserTest {
  static final String VALID = """
      name: imaging
      dataset: scans
      model: {architecture: small-cnn}
      input_shape: [1, 28, 28]
      num_classes: 4
      rounds: 20
      min_nodes: 3
      deadlines: {training: 90s, evaluation: 2m}
      """;

  @Test
  void parse_validDocument_fillsDefaults() {
    JobSpec spec = JobSpecParser.parse(VALID);

    assertEquals("scans", spec.dataset());
    assertEquals(new ModelSpec.BuiltIn(ModelSpec.Architecture.SMALL_CNN, List.of()), spec.model());
    assertArrayEquals(new long[] {1, 28, 28}, spec.inputShape());
    assertEquals(1.0, spec.fractionPerRound());
    assertEquals(Duration.ofSeconds(90), spec.deadlines().training());
    assertEquals(Duration.ofMinutes(2), spec.deadlines().evaluation());
    assertEquals(StrategySpec.fedAvg(), spec.strategy());
    assertEquals(Optimizer.ADAM, spec.optimizer());
  }

  @Test
  void modelSelection_defaultsToAccuracyOrCIndex_minimisesALoss_andRoundTrips() {
    assertEquals(new ModelSelection("eval_accuracy", true, 0, 0), JobSpecParser.parse(VALID).selection());
    JobSpec loss = JobSpecParser.parse(VALID + "model_selection: {metric: eval_loss, patience: 5}\n");
    assertEquals(new ModelSelection("eval_loss", false, 5, 0), loss.selection());
    assertEquals(loss, JobSpecParser.parse(JobSpecParser.toJson(loss)));
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse(VALID + "model_selection: {metric: eval_loss, mode: lowest}\n"));
    assertEquals("model_selection.mode", e.field());
    assertEquals("model_selection.patiance", assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse(VALID + "model_selection: {patiance: 3}\n")).field());
  }

  @Test
  void localSteps_replaceLocalEpochs_roundTrip_andBothAtOnceAreRefused() {
    JobSpec steps = JobSpecParser.parse(VALID + "local_steps: 100\n");
    assertEquals(100, steps.localSteps());
    assertEquals(steps, JobSpecParser.parse(JobSpecParser.toJson(steps)));
    assertEquals(0, JobSpecParser.parse(VALID).localSteps());
    InvalidJobSpecException both = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse(VALID + "local_steps: 100\nlocal_epochs: 3\n"));
    assertEquals("local_steps", both.field());
  }

  @Test
  void localBaseline_isOffByDefault_roundTrips_andIsRefusedWithDpSgd() {
    assertFalse(JobSpecParser.parse(VALID).localBaseline());
    JobSpec baseline = JobSpecParser.parse(VALID + "local_baseline: true\n");
    assertTrue(baseline.localBaseline());
    assertEquals(baseline, JobSpecParser.parse(JobSpecParser.toJson(baseline)));
    assertEquals("local_baseline", assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse(VALID + "local_baseline: yes please\n")).field());
    InvalidJobSpecException withDp = assertThrows(InvalidJobSpecException.class, () -> JobSpecParser.parse(VALID
        + "local_baseline: true\nprivacy: {dp_sgd: {epsilon: 3, delta: 1e-5, clip: 1.0}}\n"));
    assertEquals("local_baseline", withDp.field());
    assertTrue(withDp.getMessage().contains("privacy budget"), withDp.getMessage());
  }

  @Test
  void consortiumZscore_needsAFeatureTable_isRefusedWithDpSgd_andRoundTrips() {
    String table = VALID.replace("model: {architecture: small-cnn}", "model: {architecture: mlp, hidden: [8]}")
        .replace("input_shape: [1, 28, 28]", "input_shape: [30]");
    assertEquals(FeatureScaling.NONE, JobSpecParser.parse(table).featureScaling());
    JobSpec scaled = JobSpecParser.parse(table + "feature_scaling: consortium-zscore\n");
    assertEquals(FeatureScaling.CONSORTIUM_ZSCORE, scaled.featureScaling());
    assertEquals(scaled, JobSpecParser.parse(JobSpecParser.toJson(scaled)));

    InvalidJobSpecException images = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse(VALID + "feature_scaling: consortium-zscore\n"));
    assertEquals("feature_scaling", images.field());
    assertTrue(images.getMessage().contains("[1, 28, 28]"), images.getMessage());
    InvalidJobSpecException withDp = assertThrows(InvalidJobSpecException.class, () -> JobSpecParser.parse(table
        + "feature_scaling: consortium-zscore\nprivacy: {dp_sgd: {epsilon: 3, delta: 1e-5, clip: 1.0}}\n"));
    assertEquals("feature_scaling", withDp.field());
    assertTrue(withDp.getMessage().contains("privacy.dp_sgd"), withDp.getMessage());
    assertEquals("feature_scaling", assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse(table + "feature_scaling: pooled\n")).field());
  }

  @Test
  void toJson_thenParse_givesTheSameSpec() {
    JobSpec spec = JobSpecParser.parse(VALID + "strategy: {name: fedavgm, server_momentum: 0.8}\n");

    assertEquals(spec, JobSpecParser.parse(JobSpecParser.toJson(spec)));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "rounds: 0                 | rounds      | must be in 1..100000, got 0",
      "roundz: 5                 | roundz      | unknown field",
      "num_classes: many         | num_classes | must be an integer",
      "fraction: 1.5             | fraction    | must be in (0, 1]",
      "model: {architecture: rnn} | model.architecture | 'rnn' is not one of [small-cnn, small-cnn3d, mlp, cox]",
      "deadlines: {training: soon} | deadlines.training | 'soon' is not a duration",
      "strategy: {name: fedavg, server_momentum: 0.9} | strategy.server_momentum | strategies that do: [fedavgm]",
  })
  void parse_badField_namesTheField(String override, String field, String problem) {
    String key = override.substring(0, override.indexOf(':'));
    String document = VALID.lines().filter(l -> !l.startsWith(key + ":")).reduce("", (a, b) -> a + b + "\n")
        + override + "\n";

    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, () -> JobSpecParser.parse(document));

    assertEquals(field, e.field());
    assertTrue(e.getMessage().startsWith("job field '" + field + "': "), e.getMessage());
    assertTrue(e.getMessage().contains(problem), e.getMessage());
  }

  @Test
  void parse_missingModel_saysWhatToWrite() {
    String document = VALID.replace("model: {architecture: small-cnn}\n", "");

    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, () -> JobSpecParser.parse(document));

    assertEquals("job field 'model': missing; give {architecture: small-cnn|small-cnn3d|mlp|cox} or {dl4j_json: ...}", e.getMessage());
  }

  @Test
  void parse_notYaml_pointsAtTheLine() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse("name: x\n  rounds: [1,\n"));

    assertEquals("(document)", e.field());
    assertTrue(e.getMessage().contains("line"), e.getMessage());
  }
}
