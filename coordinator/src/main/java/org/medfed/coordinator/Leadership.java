package org.medfed.coordinator;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.medfed.coordinator.store.Database;
import org.medfed.coordinator.store.Lease;
import org.medfed.coordinator.store.StoreLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this coordinator drives the jobs of its store: it holds the store's {@link Lease} and,
 * for an embedded store, its {@link StoreLock}. While it holds them it renews the lease every
 * third of the TTL, so two renewals may fail before the lease lapses; while another coordinator
 * holds them it tries again at the same pace. Attempts, renewals and the news of a lost lease run
 * on one timer thread.
 */
final class Leadership implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Leadership.class);

  private final Lease lease;
  private final Optional<Path> lockFile;
  private final Duration period;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread thread = new Thread(r, "medfed-lease");
    thread.setDaemon(true);
    return thread;
  });
  private StoreLock lock;
  private ScheduledFuture<?> attempts;
  private ScheduledFuture<?> renewal;

  /**
   * @param onLost told on the timer thread why the lease was lost, once: by a refused write or a
   *     failed renewal
   */
  Leadership(Database database, String holder, Duration ttl, Consumer<String> onLost) {
    this.lockFile = StoreLock.fileFor(database.settings());
    this.period = ttl.dividedBy(3);
    this.lease = new Lease(database, holder, ttl, Clock.systemUTC(), why -> {
      try {
        timer.execute(() -> onLost.accept(why));
      } catch (RejectedExecutionException closing) {
        // The coordinator is stopping already; nothing is left to stop.
      }
    });
  }

  String holder() {
    return lease.holder();
  }

  Optional<Long> token() {
    return lease.token();
  }

  /**
   * One attempt. With an embedded store the OS lock comes first: it proves that no other
   * coordinator process is alive on the store, so the lease is taken even before a dead holder's
   * has expired. Once taken, the lease is renewed every third of the TTL from now on, whatever
   * the coordinator is busy with.
   *
   * @return true when this coordinator now holds the lease
   */
  synchronized boolean tryTake() throws IOException, SQLException {
    if (lockFile.isPresent() && lock == null) {
      lock = StoreLock.tryLock(lockFile.get()).orElse(null);
      if (lock == null) {
        return false;
      }
    }
    if (!(lease.tryAcquire(lockFile.isPresent()) instanceof Lease.Attempt.Acquired)) {
      return false;
    }
    renewal = timer.scheduleWithFixedDelay(() -> {
      try {
        if (!lease.renew()) {
          stopRenewing();
        }
      } catch (SQLException e) {
        // Writes fail meanwhile too; once the store answers, a lapsed lease is reported as lost.
        log.warn("cannot renew the store's lease ({}); trying again in {} ms", e.getMessage(), period.toMillis());
      }
    }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    return true;
  }

  /** Who drives the jobs now, for messages. */
  String activeHolder() {
    try {
      Lease.Holding current = lease.current();
      return current.token() == 0 ? "no coordinator yet" : current.describe();
    } catch (SQLException e) {
      return "a coordinator this one cannot name (reading the lease failed: " + e.getMessage() + ")";
    }
  }

  /**
   * Tries every third of the TTL until the lease is this coordinator's, then runs {@code onAcquired}
   * on a thread of its own, so that renewing starts while the coordinator loads its jobs.
   */
  synchronized void standBy(Runnable onAcquired) {
    attempts = timer.scheduleWithFixedDelay(() -> {
      try {
        if (tryTake()) {
          stopTrying();
          new Thread(onAcquired, "medfed-take-over").start();
        }
      } catch (IOException | SQLException e) {
        log.warn("standby: cannot try the store's lease ({}); trying again in {} ms", e.getMessage(),
            period.toMillis());
      }
    }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
  }

  private synchronized void stopTrying() {
    attempts.cancel(false);
  }

  private synchronized void stopRenewing() {
    renewal.cancel(false);
  }

  /** Stops trying and renewing, and gives the lease and the OS lock up so that a stand-by takes over. */
  @Override
  public void close() {
    timer.shutdownNow();
    try {
      timer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      lease.release();
    } catch (SQLException e) {
      log.warn("cannot release the store's lease ({}); a stand-by takes over when it expires", e.getMessage());
    }
    synchronized (this) {
      if (lock != null) {
        try {
          lock.close();
        } catch (IOException e) {
          log.warn("cannot release {}: {}", lock.file(), e.getMessage());
        }
        lock = null;
      }
    }
  }
}
