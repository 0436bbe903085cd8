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
    } catch (SQLException e) {
      throw new StoreException("cannot copy the audit log into " + database.settings().describe() + ": "
          + e.getMessage(), e);
    }
    log.mirrorTo(entry -> {
      try {
        store(entry);
      } catch (SQLException e) {
        throw new StoreException("audit record " + entry.seq() + " is in " + log.file() + " but not in "
            + database.settings().describe() + ": " + e.getMessage(), e);
      }
    });
  }

  private void store(AuditLog.Entry entry) throws SQLException {
    if (chain == null) {
      chain = entry.hash();
    }
    database.inTransaction(c -> {
      try (PreparedStatement insert = c.prepareStatement(
          "INSERT INTO audit_records (chain, seq, at, type, details_json, hash) VALUES (?, ?, ?, ?, ?, ?)")) {
        insert.setString(1, chain);
        insert.setLong(2, entry.seq());
        insert.setString(3, entry.time());
        insert.setString(4, entry.type());
        insert.setString(5, entry.detailsJson());
        insert.setString(6, entry.hash());
        return insert.executeUpdate();
      }
    });
  }
}
