package org.medfed.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.medfed.coordinator.model.GlobalModel;

class StrategySpecParsingTest {
  private static final String PLAINTEXT = "secure_aggregation: {enabled: false}\n";
  private static final String SGD = "optimizer: sgd\n";

  @Test
  void fedAdam_byName_takesTheDocumentedDefaults() {
    StrategySpec adam = JobSpecParser.parse(JobSpecParserTest.VALID + "strategy: fedadam\n").strategy();

    assertEquals(Map.of(StrategyParameter.SERVER_LEARNING_RATE, 0.1, StrategyParameter.BETA1, 0.9,
        StrategyParameter.BETA2, 0.99, StrategyParameter.TAU, 1e-3), adam.parameters());
  }

  @Test
  void fedYogi_givenFields_overrideTheDefaults() {
    StrategySpec yogi = JobSpecParser.parse(JobSpecParserTest.VALID
        + "strategy: {name: fedyogi, server_learning_rate: 0.01, tau: 1.0e-9}\n").strategy();

    assertEquals(0.01, yogi.get(StrategyParameter.SERVER_LEARNING_RATE));
    assertEquals(1e-9, yogi.get(StrategyParameter.TAU));
    assertEquals(0.99, yogi.get(StrategyParameter.BETA2));
  }

  @Test
  void fedProx_carriesMuIntoTheTrainingPlan_andOtherStrategiesSendZero() {
    GlobalModel model = new GlobalModel("{}", new float[3]);
    JobSpec prox = JobSpecParser.parse(JobSpecParserTest.VALID + "strategy: {name: fedprox, proximal_mu: 0.05}\n");
    JobSpec byDefault = JobSpecParser.parse(JobSpecParserTest.VALID + "strategy: fedprox\n");
    JobSpec fedAvg = JobSpecParser.parse(JobSpecParserTest.VALID);

    assertEquals(0.05, JobTerms.plan(prox, model).getProximalMu());
    assertEquals(0.01, JobTerms.plan(byDefault, model).getProximalMu());
    assertEquals(0.0, JobTerms.plan(fedAvg, model).getProximalMu());
    assertTrue(JobSpecParser.toJson(prox).contains("\"proximal_mu\" : 0.05"), JobSpecParser.toJson(prox));
  }

  @Test
  void scaffold_asksHospitalsForTheControlDelta_inTheApprovedPlan_withFlambysServerRate() {
    GlobalModel model = new GlobalModel("{}", new float[3]);
    JobSpec scaffold = JobSpecParser.parse(JobSpecParserTest.VALID + SGD + "strategy: scaffold\n");
    JobSpec fedAvg = JobSpecParser.parse(JobSpecParserTest.VALID);

    assertEquals(Map.of(StrategyParameter.SERVER_LEARNING_RATE, 1.0), scaffold.strategy().parameters());
    assertEquals(List.of("control_delta"), JobTerms.plan(scaffold, model).getExtraVectorsList());
    assertEquals(List.of(), JobTerms.plan(fedAvg, model).getExtraVectorsList());
    assertNotEquals(JobTerms.digest(JobSpecParser.parse(JobSpecParserTest.VALID + SGD), model),
        JobTerms.digest(scaffold, model), "hospitals approve SCAFFOLD's extra vector");
  }

  @Test
  void scaffold_withDpSgd_isRefusedNamingBothAndWhy() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, () -> JobSpecParser.parse(
        JobSpecParserTest.VALID + SGD + "strategy: scaffold\nprivacy: {dp_sgd: {noise_multiplier: 1.0, clip: 1.0}}\n"));

    assertEquals("strategy.name", e.field());
    assertTrue(e.getMessage().contains("scaffold is refused together with privacy.dp_sgd"), e.getMessage());
  }

  @Test
  void scaffold_withAdam_isRefusedAskingForSgd() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse(JobSpecParserTest.VALID + "strategy: scaffold\n"));

    assertEquals("optimizer", e.field());
    assertTrue(e.getMessage().contains("must be sgd with strategy scaffold, got adam"), e.getMessage());
  }

  @ParameterizedTest
  @EnumSource(StrategyName.class)
  void toJson_thenParse_givesTheSameSpec_forEveryStrategy(StrategyName name) {
    String fields = switch (name) {
      case KRUM -> ", byzantine: 1";
      case MULTIKRUM -> ", byzantine: 1, selected: 2";
      default -> "";
    };
    JobSpec spec = JobSpecParser.parse(JobSpecParserTest.VALID + PLAINTEXT + (name == StrategyName.SCAFFOLD ? SGD : "")
        + "strategy: {name: " + name.label() + fields + "}\n");

    assertEquals(spec, JobSpecParser.parse(JobSpecParser.toJson(spec)));
  }

  @Test
  void fedAvgJson_writtenBeforeIssue13_withNeutralServerFields_stillLoads() {
    // Older coordinators stored every fedavg job with these two fields; JobManager re-parses it on restart.
    JobSpec spec = JobSpecParser.parse(JobSpecParserTest.VALID
        + "strategy: {name: fedavg, server_learning_rate: 1.0, server_momentum: 0.0}\n");

    assertEquals(StrategySpec.fedAvg(), spec.strategy());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "{name: fedavg, server_momentum: 0.9}    | strategy.server_momentum      | fedavg does not take server_momentum; strategies that do: [fedavgm]",
      "{name: fedadagrad, beta2: 0.9}          | strategy.beta2                | fedadagrad does not take beta2; strategies that do: [fedadam, fedyogi]",
      "{name: fedadam, beta1: 1.0}             | strategy.beta1                | must be in [0, 1), got 1.0",
      "{name: fedyogi, beta2: -0.1}            | strategy.beta2                | must be in [0, 1), got -0.1",
      "{name: fedadam, tau: 0}                 | strategy.tau                  | must be > 0, got 0.0",
      "{name: fedadam, server_learning_rate: 11} | strategy.server_learning_rate | must be in (0, 10], got 11.0",
      "{name: fedprox, proximal_mu: 0}         | strategy.proximal_mu          | must be > 0 (fedprox with mu 0 is fedavg), got 0.0",
      "{name: fedadam, proximal_mu: 0.1}       | strategy.proximal_mu          | fedadam does not take proximal_mu; strategies that do: [fedprox]",
      "{name: fedtrimmedavg, trim_fraction: 0.5} | strategy.trim_fraction      | must be in [0, 0.5), got 0.5",
      "{name: krum}                            | strategy.byzantine            | missing; krum needs it, an integer >= 0",
      "{name: multikrum, byzantine: 1}         | strategy.selected             | missing; multikrum needs it, an integer >= 1",
      "{name: krum, byzantine: 1.5}            | strategy.byzantine            | must be an integer, got 1.5",
      "{name: krum, byzantine: 1, selected: 2} | strategy.selected             | krum does not take selected; strategies that do: [multikrum]",
      "{name: fedadam, beta3: 0.5}             | strategy.beta3                | unknown field",
  })
  void parse_badStrategyField_namesTheField(String strategy, String field, String problem) {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse(JobSpecParserTest.VALID + PLAINTEXT + "strategy: " + strategy + "\n"));

    assertEquals(field, e.field());
    assertTrue(e.getMessage().startsWith("job field '" + field + "': " + problem), e.getMessage());
  }

  @ParameterizedTest
  @CsvSource({"fedmedian", "fedtrimmedavg", "'{name: krum, byzantine: 1}'", "'{name: multikrum, byzantine: 1, selected: 2}'"})
  void parse_robustRuleWithSecureAggregation_isRefusedNamingBothFieldsAndWhy(String strategy) {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecParser.parse(JobSpecParserTest.VALID + "strategy: " + strategy + "\n"));

    assertEquals("strategy.name", e.field());
    assertTrue(e.getMessage().contains("secure_aggregation is on (the default)")
        && e.getMessage().contains("only ever sees the sum of the updates")
        && e.getMessage().contains("set secure_aggregation: {enabled: false}")
        && e.getMessage().contains("or choose a mean-based strategy"), e.getMessage());
  }

  @Test
  void parse_robustRuleWithoutSecureAggregation_isAccepted() {
    JobSpec spec = JobSpecParser.parse(JobSpecParserTest.VALID + PLAINTEXT + "strategy: fedmedian\n");

    assertTrue(spec.strategy().name().needsEachUpdate());
    assertFalse(spec.secureAggregation().enabled());
  }
}
