package org.medfed.coordinator.store;

import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import org.medfed.trust.audit.AuditLog;

/**
 * Keeps the audit trail in the coordinator's database as well as in its hash-chained file, so it
 * can be queried beside the jobs. The file stays the record that {@code medfed audit verify}
 * checks; at start-up the database catches up on records a crash kept from it.
 */
public final class AuditMirror {
  private final Database database;
  /** The hash of the log's first record: which chain the rows belong to. */
  private String chain;

  public AuditMirror(Database database) {
    this.database = database;
  }

  /** Copies the records of {@code file} the database does not have yet, then mirrors every new one. */
  public void attach(AuditLog log) throws IOException {
    List<AuditLog.Entry> entries = AuditLog.read(log.file());
    chain = entries.isEmpty() ? null : entries.get(0).hash();
    long known;
    try {
      known = chain == null ? 0 : database.inTransaction(c -> {
        try (PreparedStatement query = c.prepareStatement(
            "SELECT COALESCE(MAX(seq), 0) FROM audit_records WHERE chain = ?")) {
          query.setString(1, chain);
          try (ResultSet rows = query.executeQuery()) {
            rows.next();
            return rows.getLong(1);
          }
        }
      });
    } catch (SQLException e) {
      throw new StoreException("cannot copy the audit log into " + database.settings().describe() + ": "
          + e.getMessage(), e);
    }
    for (AuditLog.Entry entry : entries) {
      if (entry.seq() > known) {
        store(entry, log);
      }
    }
    log.mirrorTo(entry -> store(entry, log));
  }

  /** A state write like any other, so it is fenced by the store's lease. */
  private void store(AuditLog.Entry entry, AuditLog log) {
    if (chain == null) {
      chain = entry.hash();
    }
    database.write("copy audit record " + entry.seq() + " of " + log.file() + " into the database", c -> {
      try (PreparedStatement insert = c.prepareStatement(
          "INSERT INTO audit_records (chain, seq, at, type, details_json, hash) VALUES (?, ?, ?, ?, ?, ?)")) {
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
