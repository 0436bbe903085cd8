package org.medfed.coordinator.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Which coordinator drives the jobs of one store: a single row with the holder's name, when its
 * lease expires, and a fencing token that grows by one at every acquisition. Once acquired, every
 * {@link Database#write} checks inside its own transaction that the row still carries this
 * holder's token and has not expired, so a holder that was paused past its expiry (GC, a frozen
 * VM) and superseded cannot write after the next one has taken over (fencing tokens, as in
 * Chubby and Kleppmann's "How to do distributed locking", 2016).
 *
 * <p>Expiry is read on this process's clock. Safety rests on the token alone; the clocks only
 * decide when a stand-by may take over, so coordinators sharing a PostgreSQL store need clocks
 * that agree (NTP) to well under the TTL. Thread-safe.
 */
public final class Lease {
  /** The lease as stored; {@code token} 0 and an empty holder before anyone has held it. */
  public record Holding(String holder, long token, Instant expiresAt) {
    /** For messages: "coordinator 'x' on host:7443 (pid 12), token 4, until 10:00:03Z". */
    public String describe() {
      return holder + ", token " + token + ", until " + expiresAt;
    }
  }

  /** What an attempt to take the lease found. */
  public sealed interface Attempt {
    /** This coordinator now holds the lease with {@code token}. */
    record Acquired(long token) implements Attempt {}

    /** Another coordinator holds it and it has not expired. */
    record HeldElsewhere(Holding current) implements Attempt {}
  }

  private final Database database;
  private final String holder;
  private final Duration ttl;
  private final Clock clock;
  private final Consumer<String> onLost;
  /** 0 while this coordinator does not hold the lease. */
  private final AtomicLong token = new AtomicLong();

  /**
   * @param holder how operators recognise this coordinator: name, host, port and pid
   * @param onLost told, once, why the lease was lost when a write or a renewal finds it gone;
   *     called on the thread that found it, possibly inside a database transaction, so it must
   *     only hand the news on
   */
  public Lease(Database database, String holder, Duration ttl, Clock clock, Consumer<String> onLost) {
    if (holder.isBlank()) {
      throw new IllegalArgumentException("the lease holder's name must not be blank");
    }
    if (ttl.isNegative() || ttl.toMillis() < 3) {
      throw new IllegalArgumentException("the lease TTL must be at least 3 ms, got " + ttl);
    }
    this.database = database;
    this.holder = holder;
    this.ttl = ttl;
    this.clock = clock;
    this.onLost = onLost;
  }

  public String holder() {
    return holder;
  }

  public Duration ttl() {
    return ttl;
  }

  /** The token while this coordinator holds the lease. */
  public Optional<Long> token() {
    long t = token.get();
    return t == 0 ? Optional.empty() : Optional.of(t);
  }

  /**
   * Takes the lease if nobody holds it or its holder's has expired; from then on every write to
   * the database carries the new token.
   *
   * @param force take it even from an unexpired holder: only for the owner of the store's OS lock
   *     ({@link StoreLock}), which proves that no other coordinator process is alive on it
   */
  public Attempt tryAcquire(boolean force) throws SQLException {
    return database.inTransaction(c -> {
      long now = clock.millis();
      try (PreparedStatement take = c.prepareStatement("UPDATE coordinator_lease SET holder = ?, token = token + 1,"
          + " expires_at = ? WHERE id = 1 AND (expires_at <= ? OR ?)")) {
        take.setString(1, holder);
        take.setLong(2, now + ttl.toMillis());
        take.setLong(3, now);
        take.setBoolean(4, force);
        if (take.executeUpdate() == 1) {
          long acquired = read(c).token();
          token.set(acquired);
          database.fencedBy(this);
          return new Attempt.Acquired(acquired);
        }
      }
      return new Attempt.HeldElsewhere(read(c));
    });
  }

  /**
   * Extends the lease by the TTL from now.
   *
   * @return false, after telling {@code onLost}, when the lease is no longer this coordinator's:
   *     superseded, or expired before this renewal (writes in between were refused)
   */
  public boolean renew() throws SQLException {
    long held = token.get();
    if (held == 0) {
      return false;
    }
    Optional<String> problem = database.inTransaction(c -> {
      long now = clock.millis();
      try (PreparedStatement renew = c.prepareStatement(
          "UPDATE coordinator_lease SET expires_at = ? WHERE id = 1 AND token = ? AND expires_at > ?")) {
        renew.setLong(1, now + ttl.toMillis());
        renew.setLong(2, held);
        renew.setLong(3, now);
        return renew.executeUpdate() == 1 ? Optional.<String>empty() : Optional.of(lostBecause(read(c), held));
      }
    });
    problem.ifPresent(this::lost);
    return problem.isEmpty();
  }

  /** Gives the lease up (an orderly stop), so that a stand-by takes over at its next try. */
  public void release() throws SQLException {
    long held = token.get();
    if (held == 0) {
      return;
    }
    token.set(0);
    database.inTransaction(c -> {
      try (PreparedStatement release = c.prepareStatement(
          "UPDATE coordinator_lease SET expires_at = 0 WHERE id = 1 AND token = ?")) {
        release.setLong(1, held);
        return release.executeUpdate();
      }
    });
  }

  /** The lease as stored now. */
  public Holding current() throws SQLException {
    return database.inTransaction(Lease::read);
  }

  /**
   * The fence, inside a write's transaction and before its work: why this coordinator may not
   * write, if it may not. The UPDATE takes the row's lock until the write commits, so a take-over
   * waits for the write instead of slipping in between the check and the commit.
   */
  Optional<String> problem(Connection c) throws SQLException {
    long held = token.get();
    if (held == 0) {
      return Optional.of("this coordinator (" + holder + ") does not hold the store's lease");
    }
    try (PreparedStatement check = c.prepareStatement(
        "UPDATE coordinator_lease SET token = token WHERE id = 1 AND token = ? AND expires_at > ?")) {
      check.setLong(1, held);
      check.setLong(2, clock.millis());
      if (check.executeUpdate() == 1) {
        return Optional.empty();
      }
    }
    String why = lostBecause(read(c), held);
    lost(why);
    return Optional.of(why);
  }

  private String lostBecause(Holding now, long held) {
    String lost = "this coordinator (" + holder + ") lost the store's lease (its token " + held + ")";
    if (now.token() != held) {
      return lost + " to " + now.describe() + "; it must stop driving jobs: only the holder may write";
    }
    return lost + ": it expired at " + now.expiresAt() + " before this coordinator renewed it (a pause longer than"
        + " the lease TTL of " + ttl.toMillis() + " ms?); it stops driving jobs so that a stand-by can take over";
  }

  private void lost(String why) {
    long held = token.get();
    if (held != 0 && token.compareAndSet(held, 0)) {
      onLost.accept(why);
    }
  }

  private static Holding read(Connection c) throws SQLException {
    try (PreparedStatement query = c.prepareStatement(
        "SELECT holder, token, expires_at FROM coordinator_lease WHERE id = 1");
        ResultSet row = query.executeQuery()) {
      if (!row.next()) {
        throw new SQLException("the coordinator_lease row is missing; it is created when the database is opened");
      }
      return new Holding(row.getString(1), row.getLong(2), Instant.ofEpochMilli(row.getLong(3)));
    }
  }
}
