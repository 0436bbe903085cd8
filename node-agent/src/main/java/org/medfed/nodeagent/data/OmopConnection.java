package org.medfed.nodeagent.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * Opens a read-only session on an OMOP database, and refuses a role that could write.
 *
 * <p>The agent only reads hospital data, and a role that can write is one mistake (ours, or a
 * cohort query's) from changing the record. So the role's privileges are checked before anything is
 * read: any of INSERT, UPDATE, DELETE or TRUNCATE on a table the load reads, or CREATE on its schema,
 * refuses the load. The session is read-only as well ({@code readOnlyMode=always}), a second guard
 * that holds even for what the check cannot see, such as the tables a cohort query reads.
 */
final class OmopConnection {
  private static final List<String> WRITES = List.of("INSERT", "UPDATE", "DELETE", "TRUNCATE");

  private OmopConnection() {}

  /**
   * A connection in a read-only transaction, after checking that the role cannot write to
   * {@code tables} ({@code schema.table}) or create in their schemas.
   *
   * @throws DataLoadException naming the host and database (never the password), the role, the
   *     privilege and the fix
   */
  static Connection open(String dataset, OmopMapping.Database database, Set<String> tables) {
    Properties properties = new Properties();
    properties.setProperty("user", database.user());
    properties.setProperty("password", password(dataset, database.password()));
    properties.setProperty("ApplicationName", "medfed-agent");
    properties.setProperty("connectTimeout", "15");
    properties.setProperty("readOnly", "true");
    properties.setProperty("readOnlyMode", "always");
    Connection db;
    try {
      db = DriverManager.getConnection(database.url(), properties);
    } catch (SQLException e) {
      throw new DataLoadException("dataset '" + dataset + "': cannot connect to the OMOP database at "
          + database.describe() + " as '" + database.user() + "': " + e.getMessage() + "; check database.url, the"
          + " role and its password (" + source(database.password()) + ")");
    }
    try {
      db.setAutoCommit(false);
      db.setReadOnly(true);
      refuseWriters(dataset, database, db, tables);
      return db;
    } catch (SQLException | RuntimeException e) {
      close(db);
      if (e instanceof DataLoadException problem) {
        throw problem;
      }
      throw new DataLoadException("dataset '" + dataset + "': checking the privileges of '" + database.user()
          + "' on the OMOP database at " + database.describe() + " failed: " + e.getMessage(), e);
    }
  }

  private static void refuseWriters(String dataset, OmopMapping.Database database, Connection db, Set<String> tables)
      throws SQLException {
    String role = single(db, "SELECT current_user", List.of());
    List<String> writes = new ArrayList<>();
    List<String> unreadable = new ArrayList<>();
    Set<String> schemas = new LinkedHashSet<>();
    for (String table : tables) {
      if (single(db, "SELECT to_regclass(?)::text", List.of(table)) == null) {
        throw new DataLoadException("dataset '" + dataset + "': table " + table + " does not exist in the OMOP"
            + " database at " + database.describe() + " (or '" + role + "' cannot see its schema); check"
            + " database.schema and the cohort table, and GRANT USAGE ON SCHEMA to the role");
      }
      schemas.add(table.substring(0, table.indexOf('.')));
      try (PreparedStatement query = db.prepareStatement("SELECT has_table_privilege(current_user, ?, 'SELECT'),"
          + " has_table_privilege(current_user, ?, 'INSERT'), has_table_privilege(current_user, ?, 'UPDATE'),"
          + " has_table_privilege(current_user, ?, 'DELETE'), has_table_privilege(current_user, ?, 'TRUNCATE')")) {
        for (int i = 1; i <= 5; i++) {
          query.setString(i, table);
        }
        try (ResultSet row = query.executeQuery()) {
          row.next();
          if (!row.getBoolean(1)) {
            unreadable.add(table);
          }
          for (int i = 0; i < WRITES.size(); i++) {
            if (row.getBoolean(i + 2)) {
              writes.add(WRITES.get(i) + " on " + table);
            }
          }
        }
      }
    }
    for (String schema : schemas) {
      if (Boolean.parseBoolean(single(db, "SELECT has_schema_privilege(current_user, ?, 'CREATE')::text",
          List.of(schema)))) {
        writes.add("CREATE on schema " + schema);
      }
    }
    if (!writes.isEmpty()) {
      String schema = database.schema();
      throw new DataLoadException("dataset '" + dataset + "': the database role '" + role + "' can write to the OMOP"
          + " database at " + database.describe() + " (it has " + String.join(", ", writes) + "); the agent only"
          + " reads and refuses a role that can write. Connect as a role that has SELECT only, e.g. CREATE ROLE"
          + " medfed_reader LOGIN PASSWORD '...'; GRANT USAGE ON SCHEMA " + schema + " TO medfed_reader; GRANT"
          + " SELECT ON ALL TABLES IN SCHEMA " + schema + " TO medfed_reader; or take the writes away: REVOKE"
          + " INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA " + schema + " FROM " + role + "; REVOKE"
          + " CREATE ON SCHEMA " + schema + " FROM " + role + " (a superuser or a table's owner can always write:"
          + " use another role)");
    }
    if (!unreadable.isEmpty()) {
      throw new DataLoadException("dataset '" + dataset + "': the database role '" + role + "' may not read "
          + unreadable + " in the OMOP database at " + database.describe() + "; GRANT SELECT ON those tables TO "
          + role);
    }
  }

  /** The first column of the only row, as text; null for SQL NULL. */
  private static String single(Connection db, String sql, List<String> parameters) throws SQLException {
    try (PreparedStatement query = db.prepareStatement(sql)) {
      for (int i = 0; i < parameters.size(); i++) {
        query.setString(i + 1, parameters.get(i));
      }
      try (ResultSet row = query.executeQuery()) {
        row.next();
        return row.getString(1);
      }
    }
  }

  private static String password(String dataset, OmopMapping.Password source) {
    if (source instanceof OmopMapping.PasswordFromEnv env) {
      String value = System.getenv(env.variable());
      if (value == null || value.isEmpty()) {
        throw new DataLoadException("dataset '" + dataset + "': database.password_env names " + env.variable()
            + ", which is not set in the agent's environment; export it before starting the agent");
      }
      return value;
    }
    OmopMapping.PasswordFromFile file = (OmopMapping.PasswordFromFile) source;
    try {
      List<String> lines = Files.readAllLines(file.file(), StandardCharsets.UTF_8);
      if (lines.isEmpty() || lines.get(0).isEmpty()) {
        throw new DataLoadException("dataset '" + dataset + "': database.password_file " + file.file()
            + " is empty; write the role's password on its first line");
      }
      return lines.get(0);
    } catch (IOException e) {
      throw new DataLoadException("dataset '" + dataset + "': cannot read database.password_file " + file.file()
          + ": " + e.getMessage());
    }
  }

  private static String source(OmopMapping.Password password) {
    return password instanceof OmopMapping.PasswordFromEnv env ? "password_env " + env.variable()
        : "password_file " + ((OmopMapping.PasswordFromFile) password).file();
  }

  static void close(Connection db) {
    try {
      if (!db.getAutoCommit()) {
        db.rollback();
      }
      db.close();
    } catch (SQLException e) {
      // Closing after a read: nothing was written, and the server ends the session on its own.
    }
  }
}
