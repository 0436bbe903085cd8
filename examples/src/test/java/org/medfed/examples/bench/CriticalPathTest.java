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
