package org.medfed.coordinator.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * The coordinator's state database behind JDBC: SQLite in the data folder by default (no set-up,
 * crash-safe with its write-ahead log and full sync), PostgreSQL for production by configuration.
 * The schema uses only types and statements both understand. One connection, used under this
 * object's lock: the coordinator writes a few rows per stage, so a pool would buy nothing.
 */
public final class Database implements AutoCloseable {

  /** Where the database is; the password is read from a file so that it stays out of configs and logs. */
  public record Settings(String url, Optional<String> user, Optional<Path> passwordFile) {
    public Settings {
      if (!url.startsWith("jdbc:sqlite:") && !url.startsWith("jdbc:postgresql:")) {
        throw new IllegalArgumentException("store.url must be a jdbc:sqlite: or jdbc:postgresql: URL, got '" + url
            + "'");
      }
    }

    /** SQLite in {@code dataDir/medfed.db}. */
    public static Settings embedded(Path dataDir) {
      return new Settings("jdbc:sqlite:" + dataDir.resolve("medfed.db").toAbsolutePath(), Optional.empty(),
          Optional.empty());
    }

    public boolean isEmbedded() {
      return url.startsWith("jdbc:sqlite:");
    }

    /** The URL without credentials, for logs. */
    public String describe() {
      return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }
  }

  /** A unit of work inside one transaction. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  /** A unit of work that only writes. */
  @FunctionalInterface
  public interface Update {
    void run(Connection connection) throws SQLException;
  }

  /**
   * 2 added the coordinator lease; an older release, which would ignore the lease, refuses the store.
   * 3 added each hospital's evaluation to the rounds.
   */
  static final int SCHEMA_VERSION = 3;

  private static final List<String> SCHEMA = List.of(
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
      "CREATE TABLE IF NOT EXISTS jobs (id VARCHAR(200) PRIMARY KEY, name TEXT NOT NULL, spec_json TEXT NOT NULL,"
          + " digest VARCHAR(64) NOT NULL, submitted_by TEXT NOT NULL, submitted_at BIGINT NOT NULL,"
          + " status VARCHAR(20) NOT NULL, message TEXT NOT NULL, current_round INTEGER NOT NULL,"
          + " current_stage VARCHAR(40) NOT NULL, updated_at BIGINT NOT NULL)",
      // Every progress step of every job, in order: the stage a job was in when the coordinator died.
      "CREATE TABLE IF NOT EXISTS job_events (job_id VARCHAR(200) NOT NULL REFERENCES jobs(id), seq INTEGER NOT NULL,"
          + " at_millis BIGINT NOT NULL, round INTEGER NOT NULL, phase VARCHAR(40) NOT NULL, message TEXT NOT NULL,"
          + " metrics_json TEXT NOT NULL, status VARCHAR(20) NOT NULL, PRIMARY KEY (job_id, seq))",
      // The primary key is what makes a round count once, however often the coordinator restarts.
      "CREATE TABLE IF NOT EXISTS rounds (job_id VARCHAR(200) NOT NULL REFERENCES jobs(id), round INTEGER NOT NULL,"
          + " participants_json TEXT NOT NULL, dropped_json TEXT NOT NULL, metrics_json TEXT NOT NULL,"
          + " millis BIGINT NOT NULL, checkpoint_sha256 VARCHAR(64) NOT NULL, completed_at BIGINT NOT NULL,"
          + " evaluations_json TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (job_id, round))",
      // Every hospital node ever welcomed, so operators see who has not come back after a restart.
      "CREATE TABLE IF NOT EXISTS nodes (node_id VARCHAR(64) PRIMARY KEY, software_version TEXT NOT NULL,"
          + " datasets_json TEXT NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL,"
          + " connected BOOLEAN NOT NULL)",
      // A queryable copy of the hash-chained audit file (which stays the record that is verified);
      // chain is the hash of the file's first record, so coordinators sharing a database never mix logs.
      "CREATE TABLE IF NOT EXISTS audit_records (chain VARCHAR(64) NOT NULL, seq BIGINT NOT NULL, at TEXT NOT NULL,"
          + " type VARCHAR(60) NOT NULL, details_json TEXT NOT NULL, hash VARCHAR(64) NOT NULL,"
          + " PRIMARY KEY (chain, seq))",
      // One row: which coordinator drives the jobs (see Lease). Created free, with token 0.
      "CREATE TABLE IF NOT EXISTS coordinator_lease (id INTEGER PRIMARY KEY, holder TEXT NOT NULL,"
          + " token BIGINT NOT NULL, expires_at BIGINT NOT NULL)",
      "INSERT INTO coordinator_lease (id, holder, token, expires_at) VALUES (1, '', 0, 0) ON CONFLICT DO NOTHING");

  private final Settings settings;
  private Connection connection;
  /** Set once this coordinator has acquired the store's lease: from then on every write is fenced. */
  private volatile Lease fence;

  private Database(Settings settings) {
    this.settings = settings;
  }

  /**
   * Connects and creates or checks the schema.
   *
   * @throws SQLException with a message that names the database and what to check
   */
  public static Database open(Settings settings) throws SQLException {
    Database database = new Database(settings);
    database.inTransaction(connection -> {
      try (Statement statement = connection.createStatement()) {
        for (String ddl : SCHEMA) {
          statement.execute(ddl);
        }
        try (var rows = statement.executeQuery("SELECT version FROM schema_version")) {
          if (!rows.next()) {
            statement.execute("INSERT INTO schema_version (version) VALUES (" + SCHEMA_VERSION + ")");
          } else if (rows.getInt(1) == 1 || rows.getInt(1) == 2) {
            // Version 1 lacked the lease table, which the statements above have just created; 1 and 2
            // lacked the rounds' per-hospital evaluations, which start empty for the rounds they hold.
            if (!hasColumn(connection, "rounds", "evaluations_json")) {
              statement.execute("ALTER TABLE rounds ADD COLUMN evaluations_json TEXT NOT NULL DEFAULT '{}'");
            }
            statement.execute("UPDATE schema_version SET version = " + SCHEMA_VERSION);
          } else if (rows.getInt(1) != SCHEMA_VERSION) {
            throw new SQLException("database " + settings.describe() + " has schema version " + rows.getInt(1)
                + " and this coordinator needs " + SCHEMA_VERSION + "; use the matching medfed release");
          }
        }
      }
      return null;
    });
    return database;
  }

  /** Portable across SQLite and PostgreSQL, neither of which needs a failed statement to find out. */
  private static boolean hasColumn(Connection connection, String table, String column) throws SQLException {
    try (ResultSet columns = connection.getMetaData().getColumns(null, null, table, column)) {
      return columns.next();
    }
  }

    public Settings settings() {
    return settings;
  }

  /**
   * Runs {@code work} in one transaction: committed if it returns, rolled back if it throws. On
   * SQLite a transaction that read and then wrote while another process (a second coordinator on
   * the same folder) wrote in between fails at once with SQLITE_BUSY, which no busy timeout waits
   * out; it is run again from the start, a few times.
   */
  public synchronized <T> T inTransaction(Work<T> work) throws SQLException {
    for (int attempt = 1; ; attempt++) {
      try {
        return once(work);
      } catch (SQLException e) {
        if (!settings.isEmbedded() || (e.getErrorCode() & 0xff) != SQLITE_BUSY || attempt == BUSY_ATTEMPTS) {
          throw e;
        }
        try {
          Thread.sleep(50L * attempt);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  private static final int SQLITE_BUSY = 5;
  private static final int BUSY_ATTEMPTS = 5;

  private <T> T once(Work<T> work) throws SQLException {
    Connection c = connection();
    try {
      T result = work.run(c);
      c.commit();
      return result;
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException rollback) {
        e.addSuppressed(rollback);
        // SQLite ends the transaction itself on SQLITE_FULL; the driver would then commit each later
        // statement on its own. A new connection starts clean.
        closeQuietly();
      }
      throw e;
    }
  }

  /**
   * Runs {@code work} in one transaction for a caller that cannot go on without it: a write of the
   * coordinator's state. Once a {@link Lease} has been acquired on this database, the transaction
   * first checks that this coordinator still holds it.
   *
   * @param what the step, for the message: "record round 3 of job x"
   * @throws StoreException naming the step and the database
   * @throws LeaseLostException naming the step when another coordinator holds the lease now
   */
  public void write(String what, Update work) {
    Lease lease = fence;
    try {
      inTransaction(c -> {
        if (lease != null) {
          Optional<String> problem = lease.problem(c);
          if (problem.isPresent()) {
            throw new LeaseLostException("cannot " + what + ": " + problem.get());
          }
        }
        work.run(c);
        return null;
      });
    } catch (SQLException e) {
      throw new StoreException("cannot " + what + " in " + settings.describe() + ": " + e.getMessage(), e);
    }
  }

  /** Fences every later {@link #write} with {@code lease}'s token; called by the lease as it is acquired. */
  void fencedBy(Lease lease) {
    fence = lease;
  }

  /** Reconnects after a lost PostgreSQL connection instead of failing every later write. */
  private Connection connection() throws SQLException {
    if (connection != null && connection.isValid(5)) {
      return connection;
    }
    closeQuietly();
    try {
      connection = connect();
    } catch (SQLException e) {
      throw new SQLException("cannot open the coordinator database " + settings.describe() + ": " + e.getMessage()
          + (settings.isEmbedded() ? " (is the data folder writable?)"
              : " (is PostgreSQL running and reachable, and are store.user and store.password_file right?)"), e);
    }
    return connection;
  }

  private Connection connect() throws SQLException {
    Properties properties = new Properties();
    if (settings.isEmbedded()) {
      Path file = Path.of(settings.url().substring("jdbc:sqlite:".length()));
      try {
        Files.createDirectories(file.toAbsolutePath().getParent());
      } catch (IOException e) {
        throw new SQLException("cannot create " + file.getParent() + ": " + e.getMessage(), e);
      }
      // WAL with full sync: a committed stage survives SIGKILL and power loss alike.
      properties.setProperty("journal_mode", "WAL");
      properties.setProperty("synchronous", "FULL");
      properties.setProperty("foreign_keys", "true");
      properties.setProperty("busy_timeout", "10000");
    }
    settings.user().ifPresent(user -> properties.setProperty("user", user));
    if (settings.passwordFile().isPresent()) {
      try {
        properties.setProperty("password", Files.readString(settings.passwordFile().get()).strip());
      } catch (IOException e) {
        throw new SQLException("cannot read store.password_file " + settings.passwordFile().get() + ": " + e, e);
      }
    }
    Connection c = DriverManager.getConnection(settings.url(), properties);
    c.setAutoCommit(false);
    return c;
  }

  private void closeQuietly() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // The connection is being replaced because it is broken; there is nothing left to release.
      }
      connection = null;
    }
  }

  @Override
  public synchronized void close() {
    closeQuietly();
  }
}
