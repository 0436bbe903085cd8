package org.medfed.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class StepCpuTest {
  private enum Step { FIRST, SECOND, NEVER }

  /** Spins until this thread's CPU clock has visibly moved: the test waits on work, not on time. */
  private static long burn() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long start = threads.getCurrentThreadCpuTime();
    long spins = 0;
    while (threads.getCurrentThreadCpuTime() == start) {
      spins++;
    }
    return spins;
  }

  @Test
  void time_stepsOnTwoThreads_eachChargedItsOwnThreadsCpuAndTheTotalAddsUp() {
    Assumptions.assumeTrue(StepCpu.supported(), "per-thread CPU time is not measurable on this JVM");
    StepCpu<Step> cpu = new StepCpu<>(Step.class);

    long spins = cpu.time(Step.FIRST, StepCpuTest::burn);
    CompletableFuture.runAsync(() -> cpu.run(Step.SECOND, StepCpuTest::burn)).join();

    assertTrue(spins >= 0);
    assertTrue(cpu.nanos(Step.FIRST) > 0, "FIRST: " + cpu.nanos(Step.FIRST));
    assertTrue(cpu.nanos(Step.SECOND) > 0, "SECOND: " + cpu.nanos(Step.SECOND));
    assertEquals(0, cpu.nanos(Step.NEVER));
    assertEquals(cpu.nanos(Step.FIRST) + cpu.nanos(Step.SECOND), cpu.nanos(EnumSet.allOf(Step.class)));
  }

  @Test
  void fields_namesEveryStepInOrderInMicroseconds() {
    StepCpu<Step> cpu = new StepCpu<>(Step.class);

    assertEquals("first_us=0 second_us=0 never_us=0", cpu.fields());
  }

  @Test
  void time_workThrows_stillChargesTheStep() {
    Assumptions.assumeTrue(StepCpu.supported(), "per-thread CPU time is not measurable on this JVM");
    StepCpu<Step> cpu = new StepCpu<>(Step.class);

    IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> cpu.run(Step.FIRST, () -> {
      burn();
      throw new IllegalStateException("failed step");
    }));

    // A failed step still cost what it cost.
    assertEquals("failed step", thrown.getMessage());
    assertTrue(cpu.nanos(Step.FIRST) > 0);
  }
}
