package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.testsupport.OmopDatabase;
import org.medfed.testsupport.PostgresCluster;

/**
 * The OMOP loader against a real PostgreSQL holding a v5.4 schema with five generated people; the
 * tables it builds are compared with tables computed by hand from the rows below.
 */
class OmopLoaderTest {
  private static final long HBA1C = 3004410;
  private static final long GLUCOSE = 3004501;
  private static final long SYSTOLIC = 3004249;
  private static final long HYPERTENSION = 316866;
  private static final long DIABETES = 201826;
  private static final long METFORMIN = 1503297;
  private static final long SMOKER = 4298794;
  private static final long BODY_HEIGHT = 3036277;
  private static final long INFARCTION = 4329847;
  private static final String READER_PASSWORD = "reader-secret-1";
  private static final String WRITER_PASSWORD = "writer-secret-2";
  private static final List<OmopMapping.Feature> FEATURES = List.of(
      new OmopMapping.Covariate("hba1c_last", OmopMapping.Domain.MEASUREMENT, List.of(HBA1C),
          OmopMapping.Aggregate.LAST),
      new OmopMapping.Covariate("glucose_mean", OmopMapping.Domain.MEASUREMENT, List.of(GLUCOSE),
          OmopMapping.Aggregate.MEAN),
      new OmopMapping.Covariate("sbp_max", OmopMapping.Domain.MEASUREMENT, List.of(SYSTOLIC),
          OmopMapping.Aggregate.MAX),
      new OmopMapping.Covariate("hypertension", OmopMapping.Domain.CONDITION, List.of(HYPERTENSION),
          OmopMapping.Aggregate.PRESENT, OptionalInt.of(3650)),
      new OmopMapping.Covariate("metformin", OmopMapping.Domain.DRUG, List.of(METFORMIN), OmopMapping.Aggregate.COUNT),
      new OmopMapping.Covariate("smoker", OmopMapping.Domain.OBSERVATION, List.of(SMOKER),
          OmopMapping.Aggregate.PRESENT),
      new OmopMapping.PersonFeature("age", OmopMapping.PersonField.AGE),
      new OmopMapping.PersonFeature("female", OmopMapping.PersonField.FEMALE));
  /** Everyone seen on 2024-01-01, labelled by a type 2 diabetes diagnosis at any date; CDM tables unqualified. */
  private static final String QUERY = "SELECT p.person_id, DATE '2024-01-01' AS index_date, CASE WHEN EXISTS (SELECT 1"
      + " FROM condition_occurrence d WHERE d.person_id = p.person_id AND d.condition_concept_id = " + DIABETES
      + ") THEN 1 ELSE 0 END AS label FROM person p";

  private static PostgresCluster postgres;
  private static OmopDatabase omop;

  @TempDir Path dir;

  @BeforeAll
  static void startDatabase() throws Exception {
    Path bin = PostgresCluster.binariesOrSkip("the OMOP loader tests");
    postgres = PostgresCluster.start(bin);
    omop = OmopDatabase.create(postgres, "hospital", "cdm");
    omop.role("reader", READER_PASSWORD);
    omop.role("writer", WRITER_PASSWORD, "INSERT");
    // Person 1: female, born 1960-06-15.
    omop.person(1, OmopDatabase.FEMALE, 1960, 6, 15);
    omop.measurement(1, HBA1C, "2023-03-01", 5.5);
    omop.measurement(1, HBA1C, "2023-11-01", 7.1);
    omop.measurement(1, HBA1C, "2024-02-01", 9.9);      // after the index date: not seen
    omop.measurement(1, GLUCOSE, "2023-05-01", 100.0);
    omop.measurement(1, GLUCOSE, "2023-09-01", 140.0);
    omop.measurement(1, GLUCOSE, "2022-06-01", 300.0);  // before the window: not seen
    omop.measurement(1, SYSTOLIC, "2023-06-01", 130.0);
    omop.measurement(1, SYSTOLIC, "2023-12-01", 150.0);
    omop.condition(1, HYPERTENSION, "2020-01-01");      // within its own 10-year window
    omop.drug(1, METFORMIN, "2023-02-01");
    omop.drug(1, METFORMIN, "2023-08-01");
    omop.drug(1, METFORMIN, "2022-01-01");               // before the window: not counted
    omop.observation(1, SMOKER, "2023-04-01", null);
    omop.condition(1, DIABETES, "2024-03-01");
    // Person 2: male, born 1980-01-01; values on the window's first and last days.
    omop.person(2, OmopDatabase.MALE, 1980, 1, 1);
    omop.measurement(2, HBA1C, "2023-01-01", 5.0);
    omop.measurement(2, GLUCOSE, "2023-12-31", 90.0);
    omop.measurement(2, SYSTOLIC, "2024-01-01", 120.0);
    omop.condition(2, HYPERTENSION, "2025-01-01");      // after the index date: 0
    omop.measurement(2, BODY_HEIGHT, "2023-08-01", 180.0);   // not in the mapping
    omop.measurement(2, BODY_HEIGHT, "2023-09-01", 181.0);
    // Person 3: female, only the year of birth (1950), as the CDM allows.
    omop.person(3, OmopDatabase.FEMALE, 1950, null, null);
    omop.measurement(3, HBA1C, "2023-07-01", 6.0);
    omop.measurement(3, HBA1C, "2023-08-01", null);     // no value_as_number: not used for last
    omop.measurement(3, GLUCOSE, "2023-02-01", 110.0);
    omop.measurement(3, GLUCOSE, "2023-04-01", 130.0);
    omop.measurement(3, GLUCOSE, "2023-06-01", 150.0);
    omop.measurement(3, SYSTOLIC, "2023-08-01", 140.0);
    omop.drug(3, METFORMIN, "2023-05-05");
    omop.condition(3, DIABETES, "2019-01-01");
    omop.condition(3, INFARCTION, "2023-03-01");        // not in the mapping
    // Person 4: male, born July 1990 (no day: the first).
    omop.person(4, OmopDatabase.MALE, 1990, 7, null);
    omop.measurement(4, HBA1C, "2023-10-01", 5.2);
    omop.measurement(4, GLUCOSE, "2023-10-01", 95.0);
    omop.measurement(4, SYSTOLIC, "2023-10-01", 118.0);
    omop.condition(4, HYPERTENSION, "2023-06-01");
    omop.observation(4, SMOKER, "2023-10-01", 1.0);
    // Person 5: no HbA1c at all, a missing value.
    omop.person(5, OmopDatabase.FEMALE, 1970, 3, 3);
    omop.measurement(5, GLUCOSE, "2023-10-01", 100.0);
    omop.measurement(5, SYSTOLIC, "2023-10-01", 120.0);
    // Cohort 1 (target) from 2024-01-01, person 1 entering twice; cohort 2, the outcome.
    for (long person = 1; person <= 4; person++) {
      omop.cohort(1, person, "2024-01-01", "2024-12-31");
    }
    omop.cohort(1, 1, "2024-06-01", "2024-12-31");
    omop.cohort(2, 1, "2024-03-01", "2024-03-01");      // 60 days after the index date
    omop.cohort(2, 2, "2025-06-01", "2025-06-01");      // beyond a 365-day risk window; after observation ends
    omop.cohort(2, 3, "2023-06-01", "2023-06-01");      // before the index date: not at risk
    omop.observationPeriod(1, "2015-01-01", "2025-12-31");
    omop.observationPeriod(2, "2010-01-01", "2024-12-31");
    omop.observationPeriod(4, "2020-01-01", "2024-06-30");
  }

  @AfterAll
  static void stopDatabase() throws Exception {
    if (omop != null) {
      omop.close();
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  private OmopMapping.Database database(String user, String password) throws Exception {
    Path file = dir.resolve(user + ".password");
    Files.writeString(file, password + "\n");
    return new OmopMapping.Database(postgres.url("hospital"), user, new OmopMapping.PasswordFromFile(file), "cdm");
  }

  private DatasetDeclaration declaration(OmopMapping.Database database, OmopMapping.Cohort cohort,
      DatasetFormat format, boolean skip) {
    OmopMapping mapping = new OmopMapping(database, cohort, FEATURES, 365);
    return new DatasetDeclaration("diabetes", DatasetKind.CLINICAL, format, Path.of(database.describe()),
        format.survival() ? List.of() : List.of("no", "yes"),
        DatasetDeclaration.Options.DEFAULTS.withOmop(mapping).withSkipBadRows(skip));
  }

  private DatasetDeclaration query(String sql, boolean skip) throws Exception {
    return declaration(database("reader", READER_PASSWORD), new OmopMapping.CohortQuery(sql), DatasetFormat.OMOP,
        skip);
  }

  private static void assertRows(float[][] expected, List<float[]> actual, List<String> ids) {
    assertEquals(expected.length, actual.size(), "rows " + ids);
    for (int r = 0; r < expected.length; r++) {
      assertArrayEquals(expected[r], actual.get(r), 1e-5f, "row of person " + ids.get(r));
    }
  }

  @Test
  void table_cohortQuery_equalsTheHandComputedTable() throws Exception {
    OmopLoader.Table<Integer> table = OmopLoader.classTable(query(QUERY + " WHERE p.person_id <= 4", false),
        new BadRows(false));

    assertEquals(List.of("1", "2", "3", "4"), table.ids());
    assertEquals(List.of("hba1c_last", "glucose_mean", "sbp_max", "hypertension", "metformin", "smoker", "age",
        "female"), table.rows().features());
    assertRows(new float[][] {
        {7.1f, 120f, 150f, 1f, 2f, 1f, 63f, 1f},
        {5.0f, 90f, 120f, 0f, 0f, 0f, 44f, 0f},
        {6.0f, 130f, 140f, 0f, 1f, 0f, 74f, 1f},
        {5.2f, 95f, 118f, 1f, 0f, 1f, 33f, 0f}}, table.rows().values(), table.ids());
    assertEquals(List.of(1, 0, 1, 0), table.rows().labels());
  }

  @Test
  void table_conceptsTheMappingDoesNotName_areCountedInTheSummary() throws Exception {
    OmopLoader.Table<Integer> table = OmopLoader.classTable(query(QUERY + " WHERE p.person_id <= 4", false),
        new BadRows(false));

    assertTrue(table.summary().startsWith("dataset 'diabetes': 4 of 4 cohort people in the table"), table.summary());
    assertTrue(table.summary().contains("; 1 condition_occurrence record(s) in the windows with concept ids the"
        + " mapping does not name (1 concepts, most frequent: " + INFARCTION + " x1)"), table.summary());
    assertTrue(table.summary().contains("; 2 measurement record(s) in the windows with concept ids the mapping does"
        + " not name (1 concepts, most frequent: " + BODY_HEIGHT + " x2)"), table.summary());
  }

  @Test
  void table_missingValue_isABadRowNamingPersonFeatureAndWindow() throws Exception {
    DataLoadException failed = assertThrows(DataLoadException.class,
        () -> OmopLoader.classTable(query(QUERY, false), new BadRows(false)));
    assertEquals("dataset 'diabetes': person 5 (index date 2024-01-01): no measurement with value_as_number for"
        + " concept(s) [" + HBA1C + "] of feature 'hba1c_last' dated 2023-01-01 to 2024-01-01; a missing value is a"
        + " bad row, as an empty CSV cell is (declare bad_rows: skip to leave such people out)", failed.getMessage());

    BadRows skip = new BadRows(true);
    OmopLoader.Table<Integer> table = OmopLoader.classTable(query(QUERY, true), skip);
    assertEquals(List.of("1", "2", "3", "4"), table.ids());
    assertEquals(1, skip.skipped().size());
    assertTrue(table.summary().startsWith("dataset 'diabetes': 4 of 5 cohort people"), table.summary());
  }

  @Test
  void table_cohortTable_labelsTheOutcomeWithinTheRiskWindow_andRefusesPriorOutcomes() throws Exception {
    BadRows skip = new BadRows(true);
    OmopLoader.Table<Integer> table = OmopLoader.classTable(declaration(database("reader", READER_PASSWORD),
        new OmopMapping.CohortTable("cohort", 1, 2, OptionalInt.of(365)), DatasetFormat.OMOP, true), skip);

    assertEquals(List.of("1", "2", "4"), table.ids());
    assertEquals(List.of(1, 0, 0), table.rows().labels());
    assertEquals(List.of("dataset 'diabetes': person 3 (cohort 1 from 2024-01-01): entered the outcome cohort 2 on"
        + " 2023-06-01, on or before the index date, so was not at risk (declare bad_rows: skip to leave such people"
        + " out)"), skip.skipped());
    assertTrue(table.summary().contains("; 1 later cohort entr(ies) of people already in the cohort were not used"),
        table.summary());
  }

  @Test
  void survivalTable_cohortTable_daysToTheOutcome_elseCensoredAtTheObservationPeriodsEnd() throws Exception {
    OmopLoader.Table<float[]> table = OmopLoader.survivalTable(declaration(database("reader", READER_PASSWORD),
        new OmopMapping.CohortTable("cdm.cohort", 1, 2, OptionalInt.empty()), DatasetFormat.OMOP_SURVIVAL, true),
        new BadRows(true));

    assertEquals(List.of("1", "2", "4"), table.ids());
    assertArrayEquals(new float[] {60, 1}, table.rows().labels().get(0));    // 2024 is a leap year
    assertArrayEquals(new float[] {365, 0}, table.rows().labels().get(1));   // the outcome came after observation
    assertArrayEquals(new float[] {181, 0}, table.rows().labels().get(2));
  }

  @Test
  void survivalTable_cohortQuery_readsTimeAndEvent() throws Exception {
    OmopLoader.Table<float[]> table = OmopLoader.survivalTable(declaration(database("reader", READER_PASSWORD),
        new OmopMapping.CohortQuery("SELECT person_id, DATE '2024-01-01' AS index_date, person_id * 10 AS time,"
            + " person_id = 1 AS event FROM person WHERE person_id <= 2"), DatasetFormat.OMOP_SURVIVAL, false),
        new BadRows(false));

    assertEquals(List.of("1", "2"), table.ids());
    assertArrayEquals(new float[] {10, 1}, table.rows().labels().get(0));
    assertArrayEquals(new float[] {20, 0}, table.rows().labels().get(1));
  }

  @Test
  void survivalTable_cohortQueryWithoutEvent_namesTheMissingColumn() throws Exception {
    DataLoadException failed = assertThrows(DataLoadException.class, () -> OmopLoader.survivalTable(
        declaration(database("reader", READER_PASSWORD), new OmopMapping.CohortQuery("SELECT person_id, DATE"
            + " '2024-01-01' AS index_date, 30 AS time FROM person"), DatasetFormat.OMOP_SURVIVAL, false),
        new BadRows(false)));

    assertEquals("dataset 'diabetes': the cohort query returns no column 'event' (it returns [person_id, index_date,"
        + " time]); it must return person_id, index_date, time, event (time in days >= 0, event 1 or 0); name them"
        + " with AS", failed.getMessage());
  }

  @Test
  void load_roleThatCanInsert_isRefusedNamingRolePrivilegeAndFix() throws Exception {
    DatasetDeclaration declaration = declaration(database("writer", WRITER_PASSWORD),
        new OmopMapping.CohortQuery(QUERY), DatasetFormat.OMOP, false);

    DataLoadException refused = assertThrows(DataLoadException.class,
        () -> OmopLoader.classTable(declaration, new BadRows(false)));

    String message = refused.getMessage();
    assertTrue(message.startsWith("dataset 'diabetes': the database role 'writer' can write to the OMOP database at"
        + " 127.0.0.1:" + postgres.port() + "/hospital (it has INSERT on cdm.person, INSERT on cdm.measurement,"
        + " INSERT on cdm.condition_occurrence, INSERT on cdm.drug_exposure, INSERT on cdm.observation); the agent only"
        + " reads and refuses a role that can write."), message);
    assertTrue(message.contains("GRANT SELECT ON ALL TABLES IN SCHEMA cdm TO medfed_reader"), message);
    assertTrue(message.contains("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA cdm FROM writer"),
        message);
  }

  @Test
  void load_superuser_isRefusedForEveryWriteAndCreate() throws Exception {
    DatasetDeclaration declaration = declaration(database(PostgresCluster.SUPERUSER, postgres.password()),
        new OmopMapping.CohortQuery(QUERY), DatasetFormat.OMOP, false);

    DataLoadException refused = assertThrows(DataLoadException.class,
        () -> OmopLoader.classTable(declaration, new BadRows(false)));

    assertTrue(refused.getMessage().contains("(it has INSERT on cdm.person, UPDATE on cdm.person, DELETE on"
        + " cdm.person, TRUNCATE on cdm.person, "), refused.getMessage());
    assertTrue(refused.getMessage().contains(", CREATE on schema cdm)"), refused.getMessage());
  }

  @Test
  void open_selectOnlyRole_getsAReadOnlyTransaction() throws Exception {
    OmopMapping.Database database = database("reader", READER_PASSWORD);
    Connection db = OmopConnection.open("diabetes", database, java.util.Set.of("cdm.person"));
    try (Statement statement = db.createStatement();
        ResultSet row = statement.executeQuery("SHOW transaction_read_only")) {
      row.next();
      assertEquals("on", row.getString(1));
    } finally {
      OmopConnection.close(db);
    }
  }

  @Test
  void load_wrongPassword_namesHostAndDatabaseButNotThePassword() throws Exception {
    DatasetDeclaration declaration = declaration(database("reader", "not-the-password-42"),
        new OmopMapping.CohortQuery(QUERY), DatasetFormat.OMOP, false);

    DataLoadException failed = assertThrows(DataLoadException.class,
        () -> OmopLoader.classTable(declaration, new BadRows(false)));

    assertTrue(failed.getMessage().startsWith("dataset 'diabetes': cannot connect to the OMOP database at 127.0.0.1:"
        + postgres.port() + "/hospital as 'reader': "), failed.getMessage());
    assertTrue(failed.getMessage().contains("password authentication failed"), failed.getMessage());
    assertTrue(failed.getMessage().endsWith("; check database.url, the role and its password (password_file "
        + dir.resolve("reader.password") + ")"), failed.getMessage());
    assertFalse(failed.getMessage().contains("not-the-password-42"), failed.getMessage());
  }

  @Test
  void load_nothingListening_namesHostAndDatabase() throws Exception {
    OmopMapping.Database nowhere = new OmopMapping.Database("jdbc:postgresql://127.0.0.1:1/hospital", "reader",
        database("reader", READER_PASSWORD).password(), "cdm");
    DatasetDeclaration declaration = declaration(nowhere, new OmopMapping.CohortQuery(QUERY), DatasetFormat.OMOP,
        false);

    DataLoadException failed = assertThrows(DataLoadException.class,
        () -> OmopLoader.classTable(declaration, new BadRows(false)));

    assertTrue(failed.getMessage().startsWith("dataset 'diabetes': cannot connect to the OMOP database at"
        + " 127.0.0.1:1/hospital as 'reader': Connection to 127.0.0.1:1 refused"), failed.getMessage());
  }

  @Test
  void load_unknownSchema_namesTheMissingTable() throws Exception {
    OmopMapping.Database database = database("reader", READER_PASSWORD);
    OmopMapping.Database wrongSchema = new OmopMapping.Database(database.url(), "reader", database.password(),
        "cdm_v6");
    DataLoadException failed = assertThrows(DataLoadException.class, () -> OmopLoader.classTable(
        declaration(wrongSchema, new OmopMapping.CohortQuery(QUERY), DatasetFormat.OMOP, false), new BadRows(false)));

    assertTrue(failed.getMessage().startsWith("dataset 'diabetes': table cdm_v6.person does not exist in the OMOP"
        + " database at 127.0.0.1:" + postgres.port() + "/hospital"), failed.getMessage());
  }

  @Test
  void load_cohortQueryWithoutLabel_namesTheMissingColumn() throws Exception {
    DataLoadException failed = assertThrows(DataLoadException.class, () -> OmopLoader.classTable(
        query("SELECT person_id, DATE '2024-01-01' AS index_date FROM person", false), new BadRows(false)));

    assertEquals("dataset 'diabetes': the cohort query returns no column 'label' (it returns [person_id,"
        + " index_date]); it must return person_id, index_date, label (label 0 for the first class, 1 for the"
        + " second); name them with AS", failed.getMessage());
  }

  @Test
  void load_cohortQueryWithNullLabel_namesThePersonAndColumn() throws Exception {
    DataLoadException failed = assertThrows(DataLoadException.class, () -> OmopLoader.classTable(
        query("SELECT person_id, DATE '2024-01-01' AS index_date, CASE WHEN person_id = 2 THEN NULL ELSE 0 END AS"
            + " label FROM person WHERE person_id <= 4", false), new BadRows(false)));

    assertEquals("dataset 'diabetes': the cohort query, person 2: label is NULL; it must be 0 or 1 (declare bad_rows:"
        + " skip to leave such people out)", failed.getMessage());
  }
}
