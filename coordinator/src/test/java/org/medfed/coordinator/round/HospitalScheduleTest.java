package org.medfed.coordinator.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.medfed.coordinator.round.HospitalSchedule.Claim;
import org.medfed.coordinator.round.HospitalSchedule.Reservation;

class HospitalScheduleTest {
  private final HospitalSchedule schedule = new HospitalSchedule();
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    threads.shutdownNow();
  }

  private static Map<String, Integer> one(String... nodes) {
    Map<String, Integer> capacity = new TreeMap<>();
    for (String node : nodes) {
      capacity.put(node, 1);
    }
    return capacity;
  }

  private Reservation reserveNow(Claim claim, Map<String, Integer> capacity) throws InterruptedException {
    return schedule.reserve(claim, capacity, () -> false, why -> {
      throw new AssertionError(claim + " should not wait, but: " + why);
    }).orElseThrow();
  }

  /** A reservation in the background; {@code reasons} hears each reason it waits for. */
  private Future<Optional<Reservation>> reserveLater(Claim claim, Map<String, Integer> capacity,
      BlockingQueue<String> reasons, AtomicBoolean cancelled) {
    return threads.submit(() -> schedule.reserve(claim, capacity, cancelled::get, reasons::add));
  }

  @Test
  void reserve_disjointHospitals_bothRoundsRunAtOnce() throws Exception {
    Reservation first = reserveNow(new Claim("job-1", 1), one("a", "b"));
    Reservation second = reserveNow(new Claim("job-2", 1), one("c"));

    assertEquals(Map.of("a", List.of(new Claim("job-1", 1)), "b", List.of(new Claim("job-1", 1)),
        "c", List.of(new Claim("job-2", 1))), schedule.holders());
    first.close();
    second.close();
    assertEquals(Map.of(), schedule.holders());
  }

  @Test
  void reserve_sharedHospitalBusy_waitsWithTheReason_andStartsWhenFreed() throws Exception {
    Reservation first = reserveNow(new Claim("job-1", 3), one("a", "b"));
    BlockingQueue<String> reasons = new LinkedBlockingQueue<>();

    Future<Optional<Reservation>> second = reserveLater(new Claim("job-2", 1), one("b", "c"), reasons,
        new AtomicBoolean());

    String why = reasons.poll(30, TimeUnit.SECONDS);
    assertEquals("hospitals busy with other rounds: b (in job job-1 round 3); each hospital takes part in at most"
        + " max_concurrent_tasks rounds at once (agent.yaml)", why);
    assertFalse(second.isDone(), "job-2 must not hold c while b is busy");
    assertFalse(schedule.holders().containsKey("c"), "nothing is held while waiting");
    first.close();
    Reservation granted = second.get(30, TimeUnit.SECONDS).orElseThrow();
    assertEquals(Set.of("b", "c"), granted.nodes());
    granted.close();
  }

  @Test
  void reserve_hospitalRunsTwoTasks_takesTwoRoundsAtOnce() throws Exception {
    Reservation first = reserveNow(new Claim("job-1", 1), Map.of("a", 2));
    Reservation second = reserveNow(new Claim("job-2", 1), Map.of("a", 2));

    assertEquals(List.of(new Claim("job-1", 1), new Claim("job-2", 1)), schedule.holders().get("a"));
    first.close();
    second.close();
  }

  @Test
  void reserve_laterRoundOnAWaitedForHospital_doesNotOvertakeTheEarlierOne() throws Exception {
    Reservation running = reserveNow(new Claim("job-1", 1), one("a"));
    BlockingQueue<String> bigReasons = new LinkedBlockingQueue<>();
    Future<Optional<Reservation>> big = reserveLater(new Claim("job-2", 1), one("a", "b"), bigReasons,
        new AtomicBoolean());
    bigReasons.poll(30, TimeUnit.SECONDS);

    // b is free, but job-2 is waiting for it too and came first: job-3 queues behind it.
    BlockingQueue<String> smallReasons = new LinkedBlockingQueue<>();
    Future<Optional<Reservation>> small = reserveLater(new Claim("job-3", 1), one("b"), smallReasons,
        new AtomicBoolean());
    assertEquals("queued behind job job-2 round 1; each hospital takes part in at most max_concurrent_tasks rounds"
        + " at once (agent.yaml)", smallReasons.poll(30, TimeUnit.SECONDS));
    // A round on other hospitals is not held up by either.
    reserveNow(new Claim("job-4", 1), one("c")).close();

    running.close();
    Reservation bigGranted = big.get(30, TimeUnit.SECONDS).orElseThrow();
    assertFalse(small.isDone(), "job-3 waits while job-2 holds b");
    bigGranted.close();
    small.get(30, TimeUnit.SECONDS).orElseThrow().close();
    assertEquals(Map.of(), schedule.holders());
  }

  @Test
  void reserve_cancelledWhileWaiting_returnsEmpty_andLetsTheNextRoundIn() throws Exception {
    Reservation running = reserveNow(new Claim("job-1", 1), one("a"));
    AtomicBoolean cancelled = new AtomicBoolean();
    BlockingQueue<String> reasons = new LinkedBlockingQueue<>();
    Future<Optional<Reservation>> waiting = reserveLater(new Claim("job-2", 1), one("a", "b"), reasons, cancelled);
    reasons.poll(30, TimeUnit.SECONDS);
    BlockingQueue<String> behindReasons = new LinkedBlockingQueue<>();
    Future<Optional<Reservation>> behind = reserveLater(new Claim("job-3", 1), one("b"), behindReasons,
        new AtomicBoolean());
    behindReasons.poll(30, TimeUnit.SECONDS);

    cancelled.set(true);

    assertEquals(Optional.empty(), waiting.get(30, TimeUnit.SECONDS));
    behind.get(30, TimeUnit.SECONDS).orElseThrow().close();
    running.close();
    assertEquals(Map.of(), schedule.holders());
  }

  @Test
  void reserve_interruptedWhileWaiting_holdsNothing() throws Exception {
    Reservation running = reserveNow(new Claim("job-1", 1), one("a"));
    BlockingQueue<String> reasons = new LinkedBlockingQueue<>();
    CompletableFuture<Throwable> thrown = new CompletableFuture<>();
    Thread waiter = new Thread(() -> {
      try {
        schedule.reserve(new Claim("job-2", 1), one("a", "b"), () -> false, reasons::add);
        thrown.complete(null);
      } catch (Throwable t) {
        thrown.complete(t);
      }
    });
    waiter.start();
    reasons.poll(30, TimeUnit.SECONDS);

    waiter.interrupt();

    assertTrue(thrown.get(30, TimeUnit.SECONDS) instanceof InterruptedException);
    running.close();
    assertEquals(Map.of(), schedule.holders());
    reserveNow(new Claim("job-3", 1), one("a", "b")).close();
  }

  @Test
  void reserve_capacityBelowOne_isRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> schedule.reserve(new Claim("job-1", 1), Map.of("a", 0), () -> false, why -> {}));
    assertEquals("hospital 'a' has capacity 0; it must be >= 1", e.getMessage());
  }

  @Test
  void reservation_closedTwice_freesOnce() throws Exception {
    Reservation first = reserveNow(new Claim("job-1", 1), Map.of("a", 2));
    Reservation second = reserveNow(new Claim("job-2", 1), Map.of("a", 2));
    first.close();
    first.close();
    assertEquals(List.of(new Claim("job-2", 1)), schedule.holders().get("a"));
    second.close();
  }
}
