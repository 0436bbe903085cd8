package org.medfed.coordinator.session;

import io.grpc.Status;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hospitals connected right now. A node id has at most one session: a reconnecting agent
 * replaces its stale session. Listeners hear about departures, so a round stops waiting for a node
 * that is gone. Thread-safe.
 */
public final class NodeRegistry {
  private static final Logger log = LoggerFactory.getLogger(NodeRegistry.class);

  private final Map<String, NodeSession> sessions = new ConcurrentHashMap<>();
  private final List<Consumer<NodeSession>> departureListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<NodeSession>> arrivalListeners = new CopyOnWriteArrayList<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Clock clock;

  public NodeRegistry(Clock clock) {
    this.clock = clock;
  }

  public void onDeparture(Consumer<NodeSession> listener) {
    departureListeners.add(listener);
  }

  /** Runs after a node's session is registered (welcomed), on the gRPC thread. */
  public void onArrival(Consumer<NodeSession> listener) {
    arrivalListeners.add(listener);
  }

  void register(NodeSession session) {
    NodeSession previous = sessions.put(session.nodeId(), session);
    if (previous != null) {
      log.info("node '{}' reconnected; closing its previous session {}", session.nodeId(), previous.sessionId());
      previous.close(Status.ABORTED.withDescription("replaced by a newer session from the same node"));
      departureListeners.forEach(l -> l.accept(previous));
    }
    arrivalListeners.forEach(l -> l.accept(session));
    signal();
  }

  /** Removes the session if it is still the node's current one. */
  void unregister(NodeSession session, String why) {
    session.markClosed();
    if (sessions.remove(session.nodeId(), session)) {
      log.info("node '{}' disconnected: {}", session.nodeId(), why);
      departureListeners.forEach(l -> l.accept(session));
      signal();
    }
  }

  void touch(NodeSession session) {
    session.touch(clock.instant());
  }

  public List<NodeSession> connected() {
    List<NodeSession> list = new ArrayList<>(sessions.values());
    list.sort(Comparator.comparing(NodeSession::nodeId));
    return list;
  }

  public Set<String> connectedIds() {
    return Set.copyOf(sessions.keySet());
  }

  public List<NodeSession> connected(Predicate<NodeSession> filter) {
    return connected().stream().filter(filter).toList();
  }

  /**
   * Waits until {@code ready} holds, the deadline passes or {@code cancelled}; re-checks whenever
   * nodes come, go or {@link #signal} is called, and at least every second.
   */
  public void awaitUntil(BooleanSupplier ready, Instant deadline,
      BooleanSupplier cancelled) throws InterruptedException {
    lock.lock();
    try {
      while (!ready.getAsBoolean() && !cancelled.getAsBoolean()) {
        long remaining = deadline.toEpochMilli() - clock.millis();
        if (remaining <= 0) {
          return;
        }
        changed.await(Math.min(remaining, 1000), TimeUnit.MILLISECONDS);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Wakes anyone waiting for nodes, for example when a job is cancelled. */
  public void signal() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Ends the sessions {@code reason} gives a reason for, telling each agent why. */
  public void closeWhere(Function<NodeSession, Optional<String>> reason, Status.Code code) {
    for (NodeSession session : connected()) {
      reason.apply(session).ifPresent(why -> {
        log.warn("closing the session of node '{}': {}", session.nodeId(), why);
        session.close(Status.fromCode(code).withDescription(why));
        unregister(session, why);
      });
    }
  }

  public void closeAll(Status status) {
    sessions.values().forEach(s -> s.close(status));
    sessions.clear();
  }

  Instant now() {
    return clock.instant();
  }
}
