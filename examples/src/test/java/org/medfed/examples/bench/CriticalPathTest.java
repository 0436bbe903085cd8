package org.medfed.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CriticalPathTest {
  private static CriticalPath.HospitalCpu cpu(long training, long protocol) {
    return new CriticalPath.HospitalCpu(training, protocol);
  }

  @Test
  void ratio_slowestHospitalIsNotTheLongestTrainer_takesTheMaxOfTrainingPlusProtocolThenAddsTheCoordinator() {
    // given: b trains longest, but a's training plus protocol is the longest path
    CriticalPath path = new CriticalPath(Map.of("a", cpu(900, 150), "b", cpu(1_000, 20)), 30,
        Map.of("a", 880L, "b", 1_000L));

    // then
    assertEquals("a", path.slowestSecureHospital());
    assertEquals(900 + 150 + 30, path.secureNanos());
    assertEquals(1_000, path.plaintextNanos());
    assertEquals(1.08, path.ratio(), 1e-12);
    assertEquals(List.of(20L, 150L), path.protocolNanos());
  }

  @Test
  void lowerBound_takesStepsBesideTrainingOffThePath_unlessTheyOutlastTraining() {
    // a: 100 of its 150 run beside its 900 of training; b: 20 beside 1,000; the coordinator's keys
    // and shares (10 of its 30) run while they train.
    CriticalPath path = new CriticalPath(Map.of("a", new CriticalPath.HospitalCpu(900, 150, 100),
        "b", new CriticalPath.HospitalCpu(1_000, 20, 20)), 30, 10, Map.of("a", 880L, "b", 1_000L));

    assertEquals(1_000 + 0 + 20, path.lowerBoundNanos());
    assertEquals(1.02, path.lowerBoundRatio(), 1e-12);
    assertEquals(900 + 150 + 30, path.secureNanos());

    // Steps beside a training shorter than themselves stay on the path.
    CriticalPath shortTraining = new CriticalPath(Map.of("a", new CriticalPath.HospitalCpu(50, 150, 100)), 30, 10,
        Map.of("a", 50L));
    assertEquals(100 + 10 + 50 + 20, shortTraining.lowerBoundNanos());
  }

  @Test
  void hospitalCpu_moreBesideTrainingThanProtocol_isRejectedWithTheValues() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CriticalPath.HospitalCpu(10, 5, 6));

    assertEquals("protocol CPU beside training must be 0..5 ns, got 6", e.getMessage());
  }

  @Test
  void ratio_noProtocolAndNoCoordinatorCost_isTheTrainingRatio() {
    CriticalPath path = new CriticalPath(Map.of("a", cpu(500, 0)), 0, Map.of("a", 400L));

    assertEquals(1.25, path.ratio(), 1e-12);
  }

  @Test
  void slowestSecureHospital_tie_isTheFirstByName() {
    CriticalPath path = new CriticalPath(Map.of("b", cpu(10, 5), "a", cpu(5, 10)), 0, Map.of("a", 1L));

    assertEquals("b", path.slowestSecureHospital());
  }

  @Test
  void constructor_noPlaintextHospitals_isRejectedWithTheCounts() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CriticalPath(Map.of("a", cpu(1, 1)), 0, Map.of()));

    assertEquals("a critical path needs both rounds' hospitals, got 1 secure and 0 plaintext", e.getMessage());
  }

  @Test
  void hospitalCpu_negativeTime_isRejectedWithTheValues() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu(-1, 2));

    assertEquals("CPU times must be >= 0, got training -1 ns and protocol 2 ns", e.getMessage());
  }

  @Test
  void roundCpuLog_agentLine_yieldsItsFieldsInNanoseconds() {
    String line = "13:40:01.123 [medfed-agent-worker-1] INFO  o.m.n.session.TaskRunner - round CPU: job=j-1 round=2"
        + " secure=true protocol_us=1500 training_us=800000 advertise_keys_us=200 share_keys_us=1300";

    Map<String, String> fields = RoundCpuLog.parse(line).orElseThrow();

    assertEquals("j-1", fields.get("job"));
    assertEquals(1_500_000L, RoundCpuLog.nanos(fields, "protocol_us"));
    assertEquals(800_000_000L, RoundCpuLog.nanos(fields, "training_us"));
    assertEquals(true, RoundCpuLog.parse("some other line").isEmpty());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RoundCpuLog.nanos(fields, "masking_us"));
    assertEquals(true, e.getMessage().startsWith("round-CPU line has no field 'masking_us'"));
  }
}
