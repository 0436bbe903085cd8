package org.medfed.secagg.protocol;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import org.junit.jupiter.api.Test;

/** The warm-up runs on a daemon thread in agents and the coordinator, where a failure would go unseen. */
class WarmUpTest {
  @Test
  void warmUp_runsWholeInstancesWithDropoutsAndTheConsistencyCheck_withoutError() {
    assertDoesNotThrow(WarmUp::run);
  }
}
