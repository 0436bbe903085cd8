package org.medfed.nodeagent.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private final Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), 2.0, 0.2);

  @Test
  void delay_withoutJitter_doublesEachAttemptUpToTheMaximum() {
    // random 0.5 -> jitter factor exactly 1
    assertEquals(Duration.ofMillis(500), backoff.delay(0, () -> 0.5));
    assertEquals(Duration.ofMillis(1000), backoff.delay(1, () -> 0.5));
    assertEquals(Duration.ofMillis(4000), backoff.delay(3, () -> 0.5));
    assertEquals(Duration.ofSeconds(30), backoff.delay(20, () -> 0.5));
    assertEquals(Duration.ofSeconds(30), backoff.delay(5000, () -> 0.5));
  }

  @Test
  void delay_jitterSpreadsReconnectsByTheConfiguredFraction() {
    assertEquals(Duration.ofMillis(800), backoff.delay(1, () -> 0.0));
    assertEquals(Duration.ofMillis(1200), backoff.delay(1, () -> 1.0));
  }

  @Test
  void constructor_maxBelowInitial_isRefusedWithBothValues() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Backoff(Duration.ofSeconds(5), Duration.ofSeconds(1), 2, 0.1));

    assertEquals("max backoff (PT1S) must be >= initial (PT5S)", e.getMessage());
  }
}
