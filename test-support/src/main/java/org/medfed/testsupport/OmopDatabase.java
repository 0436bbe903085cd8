package org.medfed.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.LocalDate;
import java.util.Objects;

/**
 * An OMOP CDM v5.4 schema in a test's {@link PostgresCluster}: the tables the agent's OMOP loader
 * reads ({@code omop-cdm-5.4-subset.sql}), rows added one call each, and login roles with chosen
 * privileges. Connected as the superuser; each insert commits.
 */
public final class OmopDatabase implements AutoCloseable {
  /** OMOP's gender concepts. */
  public static final long FEMALE = 8532;
  public static final long MALE = 8507;
  /** "EHR", the type concept every row here carries. */
  private static final int FROM_EHR = 32817;

  private final Connection db;
  private final String schema;
  private int nextId = 1;

  private OmopDatabase(Connection db, String schema) {
    this.db = db;
    this.schema = schema;
  }

  /** Creates {@code database} in the cluster and the CDM tables in {@code schema} within it. */
  public static OmopDatabase create(PostgresCluster cluster, String database, String schema) throws SQLException {
    try (Connection admin = cluster.connect("postgres"); Statement statement = admin.createStatement()) {
      statement.execute("CREATE DATABASE " + database);
    }
    Connection db = cluster.connect(database);
    try (Statement statement = db.createStatement()) {
      statement.execute("CREATE SCHEMA " + schema);
      statement.execute(ddl().replace("@schema", schema));
    }
    return new OmopDatabase(db, schema);
  }

  private static String ddl() {
    try (InputStream in = Objects.requireNonNull(OmopDatabase.class.getResourceAsStream("omop-cdm-5.4-subset.sql"),
        "omop-cdm-5.4-subset.sql")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String schema() {
    return schema;
  }

  /** A login role that may read every table of the schema and, with {@code also} (e.g. "INSERT"), write too. */
  public void role(String name, String password, String... also) throws SQLException {
    try (Statement statement = db.createStatement()) {
      statement.execute("CREATE ROLE " + name + " LOGIN PASSWORD '" + password + "'");
      statement.execute("GRANT CONNECT ON DATABASE " + db.getCatalog() + " TO " + name);
      statement.execute("GRANT USAGE ON SCHEMA " + schema + " TO " + name);
      statement.execute("GRANT SELECT ON ALL TABLES IN SCHEMA " + schema + " TO " + name);
      if (also.length > 0) {
        statement.execute("GRANT " + String.join(", ", also) + " ON ALL TABLES IN SCHEMA " + schema + " TO " + name);
      }
    }
  }

  /** A person born on the given day; {@code month} and {@code day} may be null, as the CDM allows. */
  public void person(long personId, long gender, int year, Integer month, Integer day) throws SQLException {
    try (PreparedStatement insert = db.prepareStatement("INSERT INTO " + schema + ".person (person_id,"
        + " gender_concept_id, year_of_birth, month_of_birth, day_of_birth, race_concept_id, ethnicity_concept_id)"
        + " VALUES (?, ?, ?, ?, ?, 0, 0)")) {
      insert.setLong(1, personId);
      insert.setLong(2, gender);
      insert.setInt(3, year);
      insert.setObject(4, month, Types.INTEGER);
      insert.setObject(5, day, Types.INTEGER);
      insert.executeUpdate();
    }
  }

  public void observationPeriod(long personId, String start, String end) throws SQLException {
    insert("observation_period (observation_period_id, person_id, observation_period_start_date,"
        + " observation_period_end_date, period_type_concept_id) VALUES (?, ?, ?, ?, " + FROM_EHR + ")",
        nextId++, personId, date(start), date(end));
  }

  public void condition(long personId, long concept, String start) throws SQLException {
    insert("condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date,"
        + " condition_type_concept_id) VALUES (?, ?, ?, ?, " + FROM_EHR + ")", nextId++, personId, concept,
        date(start));
  }

  public void drug(long personId, long concept, String start) throws SQLException {
    insert("drug_exposure (drug_exposure_id, person_id, drug_concept_id, drug_exposure_start_date,"
        + " drug_exposure_end_date, drug_type_concept_id) VALUES (?, ?, ?, ?, ?, " + FROM_EHR + ")", nextId++,
        personId, concept, date(start), date(start));
  }

  /** A measurement; {@code value} null for one without value_as_number (a qualitative result). */
  public void measurement(long personId, long concept, String date, Double value) throws SQLException {
    insert("measurement (measurement_id, person_id, measurement_concept_id, measurement_date,"
        + " measurement_type_concept_id, value_as_number) VALUES (?, ?, ?, ?, " + FROM_EHR + ", ?)", nextId++,
        personId, concept, date(date), value);
  }

  public void observation(long personId, long concept, String date, Double value) throws SQLException {
    insert("observation (observation_id, person_id, observation_concept_id, observation_date,"
        + " observation_type_concept_id, value_as_number) VALUES (?, ?, ?, ?, " + FROM_EHR + ", ?)", nextId++,
        personId, concept, date(date), value);
  }

  public void cohort(long definition, long subject, String start, String end) throws SQLException {
    insert("cohort (cohort_definition_id, subject_id, cohort_start_date, cohort_end_date) VALUES (?, ?, ?, ?)",
        definition, subject, date(start), date(end));
  }

  private void insert(String into, Object... values) throws SQLException {
    try (PreparedStatement insert = db.prepareStatement("INSERT INTO " + schema + "." + into)) {
      for (int i = 0; i < values.length; i++) {
        if (values[i] == null) {
          insert.setNull(i + 1, Types.NUMERIC);
        } else {
          insert.setObject(i + 1, values[i]);
        }
      }
      insert.executeUpdate();
    }
  }

  private static Date date(String iso) {
    return Date.valueOf(LocalDate.parse(iso));
  }

  @Override
  public void close() throws SQLException {
    db.close();
  }
}
