package org.medfed.coordinator.round;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Which rounds hold which hospitals, across all jobs. A hospital takes part in at most as many
 * rounds at once as it runs tasks side by side (its {@code max_concurrent_tasks}).
 *
 * <p>Why: an agent works a secure round until its peers answer. When two jobs share hospitals A and
 * B and each agent runs one task at a time, A can sit in job 1's key exchange waiting for B while B
 * sits in job 2's waiting for A; both rounds then fail at their deadline. Here a round gets all its
 * hospitals at once or none, so no round ever holds one hospital while waiting for another.
 *
 * <p>Fairness: requests are served first come, first served. A waiting round keeps later rounds off
 * the hospitals it waits for, so a job that needs many hospitals is not starved by jobs that need
 * few; rounds on other hospitals go ahead. Thread-safe.
 */
public final class HospitalSchedule {

  /** A round that holds or wants hospitals; for messages. */
  public record Claim(String jobId, int round) {
    @Override
    public String toString() {
      return "job " + jobId + " round " + round;
    }
  }

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  /** The rounds holding each hospital, by node id. */
  private final Map<String, List<Claim>> holders = new HashMap<>();
  /** Rounds waiting for their hospitals, oldest first. */
  private final List<Request> queue = new ArrayList<>();

  private static final class Request {
    final Claim claim;
    /** Each wanted hospital with the number of rounds it runs at once. */
    final Map<String, Integer> capacity;
    boolean granted;

    Request(Claim claim, Map<String, Integer> capacity) {
      this.claim = claim;
      this.capacity = new TreeMap<>(capacity);
    }
  }

  /** Hospitals held by one round; closing it lets waiting rounds have them. Idempotent. */
  public final class Reservation implements AutoCloseable {
    private final Request request;
    private boolean released;

    private Reservation(Request request) {
      this.request = request;
    }

    public Set<String> nodes() {
      return request.capacity.keySet();
    }

    @Override
    public void close() {
      lock.lock();
      try {
        if (released) {
          return;
        }
        released = true;
        for (String node : request.capacity.keySet()) {
          List<Claim> claims = holders.get(node);
          claims.remove(request.claim);
          if (claims.isEmpty()) {
            holders.remove(node);
          }
        }
        grantInOrder();
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * Waits until every hospital in {@code capacity} can take part in {@code claim}, then holds them
   * all. While it waits, {@code waiting} hears why, each time the reason changes (called without
   * this schedule's lock). Re-checks {@code cancelled} at least every second.
   *
   * @param capacity each wanted hospital's node id with its max_concurrent_tasks (at least 1)
   * @return the reservation, or empty if {@code cancelled} became true first
   * @throws InterruptedException if the coordinator is stopping; nothing is held then
   */
  public Optional<Reservation> reserve(Claim claim, Map<String, Integer> capacity, BooleanSupplier cancelled,
      Consumer<String> waiting) throws InterruptedException {
    capacity.forEach((node, limit) -> {
      if (limit < 1) {
        throw new IllegalArgumentException("hospital '" + node + "' has capacity " + limit + "; it must be >= 1");
      }
    });
    Request request = new Request(claim, capacity);
    Reservation reservation = new Reservation(request);
    boolean handedOver = false;
    String reported = "";
    lock.lock();
    try {
      queue.add(request);
      grantInOrder();
      while (!request.granted) {
        if (cancelled.getAsBoolean()) {
          return Optional.empty();
        }
        String why = whyWaiting(request);
        if (!why.equals(reported)) {
          reported = why;
          lock.unlock();
          try {
            waiting.accept(why);
          } finally {
            lock.lock();
          }
          continue;
        }
        changed.await(1, TimeUnit.SECONDS);
      }
      handedOver = true;
      return Optional.of(reservation);
    } finally {
      lock.unlock();
      if (!handedOver) {
        withdraw(request, reservation);
      }
    }
  }

  /** A request that ends without a reservation (cancelled, interrupted, or granted just too late) holds nothing. */
  private void withdraw(Request request, Reservation reservation) {
    lock.lock();
    try {
      if (!request.granted) {
        queue.remove(request);
        grantInOrder();
        return;
      }
    } finally {
      lock.unlock();
    }
    reservation.close();
  }

  /** The rounds holding each hospital now, by node id; for the dashboard and tests. */
  public Map<String, List<Claim>> holders() {
    lock.lock();
    try {
      Map<String, List<Claim>> copy = new TreeMap<>();
      holders.forEach((node, claims) -> copy.put(node, List.copyOf(claims)));
      return copy;
    } finally {
      lock.unlock();
    }
  }

  /** Grants waiting requests oldest first; one that cannot start blocks its hospitals for those behind it. */
  private void grantInOrder() {
    Set<String> blocked = new HashSet<>();
    boolean any = false;
    for (var it = queue.iterator(); it.hasNext(); ) {
      Request request = it.next();
      boolean free = request.capacity.entrySet().stream().allMatch(wanted -> !blocked.contains(wanted.getKey())
          && holders.getOrDefault(wanted.getKey(), List.of()).size() < wanted.getValue());
      if (free) {
        request.capacity.keySet().forEach(node -> holders.computeIfAbsent(node, n -> new ArrayList<>())
            .add(request.claim));
        request.granted = true;
        it.remove();
        any = true;
      } else {
        blocked.addAll(request.capacity.keySet());
      }
    }
    if (any) {
      changed.signalAll();
    }
  }

  private String whyWaiting(Request request) {
    Map<String, List<Claim>> busy = new LinkedHashMap<>();
    List<Claim> ahead = new ArrayList<>();
    for (String node : request.capacity.keySet()) {
      List<Claim> claims = holders.getOrDefault(node, List.of());
      if (claims.size() >= request.capacity.get(node)) {
        busy.put(node, List.copyOf(claims));
      }
    }
    for (Request other : queue) {
      if (other == request) {
        break;
      }
      if (other.capacity.keySet().stream().anyMatch(request.capacity::containsKey)) {
        ahead.add(other.claim);
      }
    }
    // Hospitals held by the same rounds are named together: "a, b (in job x round 1)".
    Map<List<Claim>, List<String>> byHolders = new LinkedHashMap<>();
    busy.forEach((node, claims) -> byHolders.computeIfAbsent(claims, c -> new ArrayList<>()).add(node));
    List<String> parts = new ArrayList<>();
    byHolders.forEach((claims, nodes) -> parts.add(String.join(", ", nodes) + " (in " + String.join(", ",
        claims.stream().map(Claim::toString).toList()) + ")"));
    return (parts.isEmpty() ? "" : "hospitals busy with other rounds: " + String.join(", ", parts))
        + (parts.isEmpty() || ahead.isEmpty() ? "" : "; ")
        + (ahead.isEmpty() ? "" : "queued behind " + String.join(", ", ahead.stream().map(Claim::toString).toList()))
        + "; each hospital takes part in at most max_concurrent_tasks rounds at once (agent.yaml)";
  }
}
