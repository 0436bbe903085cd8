package org.medfed.coordinator.store;

import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.medfed.trust.audit.AuditLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the audit trail in the coordinator's database as well as in its hash-chained file, so it
 * can be queried beside the jobs. The file stays the record that {@code medfed audit verify}
 * checks; at start-up the database catches up on records a crash kept from it. A record the
 * database refuses while running (a full disk) waits here, in order, and is written again before
 * the next one and at every storage probe: the copy lags, but never loses a record. Thread-safe.
 */
public final class AuditMirror {
  private static final Logger log = LoggerFactory.getLogger(AuditMirror.class);
  private final Database database;
  /** Records in the file that the database has not taken yet, oldest first. */
  private final Deque<AuditLog.Entry> waiting = new ArrayDeque<>();
  /** The hash of the log's first record: which chain the rows belong to. */
  private String chain;
  private String file = "the audit log";

  public AuditMirror(Database database) {
    this.database = database;
  }

  /** Copies the records of {@code file} the database does not have yet, then mirrors every new one. */
  public void attach(AuditLog log) throws IOException {
    List<AuditLog.Entry> entries = AuditLog.read(log.file());
    file = log.file().toString();
    synchronized (this) {
      chain = entries.isEmpty() ? null : entries.get(0).hash();
    }
    try {
      long known = chain == null ? 0 : database.inTransaction(c -> {
        try (PreparedStatement query = c.prepareStatement(
            "SELECT COALESCE(MAX(seq), 0) FROM audit_records WHERE chain = ?")) {
          query.setString(1, chain);
          try (ResultSet rows = query.executeQuery()) {
            rows.next();
            return rows.getLong(1);
          }
        }
      });
      for (AuditLog.Entry entry : entries) {
        if (entry.seq() > known) {
          store(entry);
        }
      }
    } catch (SQLException | StoreException e) {
      throw new StoreException("cannot copy the audit log into " + database.settings().describe() + ": "
          + e.getMessage(), e);
    }
    log.mirrorTo(this::offer);
  }

  /** Takes a record that is on disk in the file; never throws, so the caller's step goes on. */
  private synchronized void offer(AuditLog.Entry entry) {
    waiting.add(entry);
    catchUp();
  }

  /**
   * Writes the waiting records, oldest first, until the database refuses one.
   *
   * @return whether the database now holds every record the file holds
   */
  public synchronized boolean catchUp() {
    while (!waiting.isEmpty()) {
      AuditLog.Entry next = waiting.peek();
      try {
        store(next);
      } catch (StoreException e) {
        if (waiting.size() == 1) {
          log.warn("audit record {} is in {} but not yet in {} ({}); it is written again once the database"
              + " takes writes", next.seq(), file, database.settings().describe(), e.getMessage());
        }
        return false;
      }
      waiting.remove();
    }
    return true;
  }

  /** Records in the file that the database has not taken yet. */
  public synchronized int waiting() {
    return waiting.size();
  }

  /**
   * A state write like any other, so it is fenced by the store's lease: a coordinator that lost the
   * lease gets {@link LeaseLostException} here, which is not a full disk and is not retried.
   */
  private synchronized void store(AuditLog.Entry entry) {
    if (chain == null) {
      chain = entry.hash();
    }
    // A write that committed but reported failure is tried again: take it once.
    database.write("copy audit record " + entry.seq() + " of " + file + " into the database", c -> {
      try (PreparedStatement insert = c.prepareStatement(
          "INSERT INTO audit_records (chain, seq, at, type, details_json, hash) VALUES (?, ?, ?, ?, ?, ?)"
              + " ON CONFLICT (chain, seq) DO NOTHING")) {
        insert.setString(1, chain);
        insert.setLong(2, entry.seq());
        insert.setString(3, entry.time());
        insert.setString(4, entry.type());
        insert.setString(5, entry.detailsJson());
        insert.setString(6, entry.hash());
        insert.executeUpdate();
      }
    });
  }
}
