package org.medfed.telemetry;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Supplier;

/**
 * CPU time of the steps of one piece of work (a secure round at a hospital, its unmasking at the
 * coordinator), measured per thread: each step is charged the CPU time of the thread that ran it,
 * from {@link ThreadMXBean#getCurrentThreadCpuTime()}, so steps on different threads add up and
 * time spent waiting, or runnable without a core, counts for nothing. That is what "as if each
 * hospital had its own machine" needs on a machine shared by many processes (docs/benchmarks.md).
 * Thread-safe: steps may run on several threads at once.
 *
 * @param <S> the steps, an enum
 */
public final class StepCpu<S extends Enum<S>> {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private final Class<S> steps;
  private final AtomicLongArray nanos;

  public StepCpu(Class<S> steps) {
    this.steps = steps;
    this.nanos = new AtomicLongArray(steps.getEnumConstants().length);
  }

  /** Runs {@code work} on the calling thread and charges its CPU time to {@code step}. */
  public <T> T time(S step, Supplier<T> work) {
    long start = THREADS.getCurrentThreadCpuTime();
    try {
      return work.get();
    } finally {
      nanos.addAndGet(step.ordinal(), THREADS.getCurrentThreadCpuTime() - start);
    }
  }

  /** As {@link #time}, for work without a result. */
  public void run(S step, Runnable work) {
    time(step, () -> {
      work.run();
      return null;
    });
  }

  /** CPU nanoseconds charged to one step so far. */
  public long nanos(S step) {
    return nanos.get(step.ordinal());
  }

  /** CPU nanoseconds charged to the given steps so far. */
  public long nanos(Set<S> which) {
    return which.stream().mapToLong(this::nanos).sum();
  }

  /** Every step's CPU nanoseconds so far, in declaration order. */
  public Map<S, Long> byStep() {
    Map<S, Long> out = new EnumMap<>(steps);
    for (S step : steps.getEnumConstants()) {
      out.put(step, nanos(step));
    }
    return out;
  }

  /**
   * The steps as {@code name_us=micros} fields separated by spaces (names in lower case), for a log
   * line that a benchmark or a person can read back without a schema.
   */
  public String fields() {
    StringBuilder out = new StringBuilder();
    byStep().forEach((step, ns) -> out.append(out.isEmpty() ? "" : " ")
        .append(step.name().toLowerCase(Locale.ROOT)).append("_us=").append(ns / 1_000));
    return out.toString();
  }

  /** Whether the JVM can measure per-thread CPU time here; without it every step reads 0. */
  public static boolean supported() {
    return THREADS.isCurrentThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled();
  }
}
