package org.medfed.nodeagent.session;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The agent's Prometheus metrics: whether it is connected, reconnects, tasks by kind and outcome
 * and how long they took (bytes come from {@link org.medfed.telemetry.WireBytes}). Counts only:
 * nothing about the hospital's data or updates.
 */
public final class AgentMetrics {
  private final MeterRegistry registry;
  private final AtomicInteger connected = new AtomicInteger();
  private final Counter reconnects;

  public AgentMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("medfed.agent.connected", connected, AtomicInteger::get)
        .description("1 while the agent has a session with the coordinator").register(registry);
    reconnects = Counter.builder("medfed.agent.reconnects").description("Sessions lost and re-established")
        .register(registry);
  }

  /** Metrics kept in memory only, for agents that expose none. */
  public static AgentMetrics unexposed() {
    return new AgentMetrics(new SimpleMeterRegistry());
  }

  void connected(boolean now) {
    connected.set(now ? 1 : 0);
  }

  void reconnecting() {
    reconnects.increment();
  }

  /** @param outcome completed, declined, failed or cancelled */
  void task(String kind, String outcome, Duration took) {
    Counter.builder("medfed.agent.tasks").tag("kind", kind).tag("outcome", outcome)
        .description("Tasks by kind and outcome").register(registry).increment();
    Timer.builder("medfed.agent.task.duration").tag("kind", kind).description("Time from task start to its end")
        .register(registry).record(took);
  }
}
