package org.medfed.nodeagent.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.OmopMapping;

class OmopMappingConfigTest {
  private static final String HEAD = """
      node_id: hospital-b
      coordinator: localhost:7443
      insecure_plaintext: true
      datasets:
        - name: diabetes
          kind: clinical
          classes: [no, yes]
      """;
  private static final String DATABASE = """
      database:
        url: jdbc:postgresql://omop-db:5432/cdm
        user: medfed_reader
        password_file: secrets/omop-password
        schema: cdm
      """;
  private static final String MAPPING = """
      mapping:
        cohort: {table: results.cohort, target: 1001, outcome: 1002, risk_window: 365d}
        window: 365d
        features:
          - {id: hba1c, measurement: 3004410, aggregate: last}
          - {id: hypertension, condition: [316866, 320128], aggregate: present, window: 3650d}
          - {id: metformin, drug: 1503297, aggregate: count}
          - {id: age, person: age}
      """;

  @TempDir Path dir;

  private Path write(String dataset) throws Exception {
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, HEAD + dataset.indent(4));
    return file;
  }

  private String fails(String dataset) throws Exception {
    Path file = write(dataset);
    return assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file)).getMessage();
  }

  @Test
  void load_omopDataset_readsDatabaseAndMapping() throws Exception {
    DatasetDeclaration dataset = AgentConfigLoader.load(write("format: omop\n" + DATABASE + MAPPING)).datasets()
        .get(0);

    assertEquals(DatasetFormat.OMOP, dataset.format());
    assertEquals(Path.of("omop-db:5432/cdm"), dataset.location());
    OmopMapping mapping = dataset.options().omop().orElseThrow();
    assertEquals(new OmopMapping.Database("jdbc:postgresql://omop-db:5432/cdm", "medfed_reader",
        new OmopMapping.PasswordFromFile(dir.resolve("secrets/omop-password")), "cdm"), mapping.database());
    assertEquals(new OmopMapping.CohortTable("results.cohort", 1001, 1002, OptionalInt.of(365)), mapping.cohort());
    assertEquals(List.of("hba1c", "hypertension", "metformin", "age"), mapping.featureIds());
    assertEquals(new OmopMapping.Covariate("hypertension", OmopMapping.Domain.CONDITION, List.of(316866L, 320128L),
        OmopMapping.Aggregate.PRESENT, OptionalInt.of(3650)), mapping.features().get(1));
    assertEquals(365, mapping.windowOf((OmopMapping.Covariate) mapping.features().get(0)));
    assertEquals(new OmopMapping.PersonFeature("age", OmopMapping.PersonField.AGE), mapping.features().get(3));
  }

  @Test
  void load_cohortQuery_andPasswordFromTheEnvironment() throws Exception {
    DatasetDeclaration dataset = AgentConfigLoader.load(write("""
        format: omop
        database: {url: "jdbc:postgresql://omop-db/cdm", user: reader, password_env: OMOP_PASSWORD, schema: cdm}
        mapping:
          cohort: {query: "SELECT person_id, index_date, label FROM results.diabetes_cohort"}
          window: 180d
          features: [{id: female, person: female}]
        """)).datasets().get(0);

    OmopMapping mapping = dataset.options().omop().orElseThrow();
    assertEquals(new OmopMapping.PasswordFromEnv("OMOP_PASSWORD"), mapping.database().password());
    assertEquals(new OmopMapping.CohortQuery("SELECT person_id, index_date, label FROM results.diabetes_cohort"),
        mapping.cohort());
  }

  @Test
  void load_passwordInTheFile_isRefused() throws Exception {
    String message = fails("format: omop\n" + DATABASE.replace("password_file: secrets/omop-password",
        "password: hunter2") + MAPPING);

    assertEquals(dir.resolve("agent.yaml") + ": datasets[0].database.password: the password must not be written in"
        + " the agent's configuration; give password_env (an environment variable's name) or password_file (a file"
        + " only the agent's user can read)", message);
  }

  @Test
  void load_schemaThatIsNotAnIdentifier_isRefused() throws Exception {
    String message = fails("format: omop\n" + DATABASE.replace("schema: cdm", "schema: \"cdm; DROP TABLE person\"")
        + MAPPING);

    assertEquals(dir.resolve("agent.yaml") + ": datasets[0]: database.schema is 'cdm; DROP TABLE person'; it must be"
        + " a schema name of lower-case letters, digits and underscores, as OMOP's DDL creates them", message);
  }

  @Test
  void load_valueAggregateOnAConditionFeature_isRefused() throws Exception {
    String message = fails("format: omop\n" + DATABASE + MAPPING.replace("aggregate: present, window: 3650d",
        "aggregate: mean"));

    assertEquals(dir.resolve("agent.yaml") + ": datasets[0].mapping.features[1]: 'hypertension': condition_occurrence"
        + " has no value_as_number, so aggregate mean does not apply; use present or count", message);
  }

  @Test
  void load_cohortTableWithoutRiskWindow_isRefusedForClasses() throws Exception {
    String message = fails("format: omop\n" + DATABASE + MAPPING.replace(", risk_window: 365d", ""));

    assertEquals(dir.resolve("agent.yaml") + ": datasets[0]: dataset 'diabetes': format omop with a cohort table needs"
        + " mapping.cohort.risk_window, e.g. 365d: the days after the index date in which entering the outcome cohort"
        + " labels the person 1", message);
  }

  @Test
  void load_databaseOnAnotherFormat_andLocationOnOmop_areRefused() throws Exception {
    assertEquals(dir.resolve("agent.yaml") + ": datasets[0].database applies to formats omop and omop_survival only",
        fails("format: csv_matrix\nlocation: data\n" + DATABASE));
    assertEquals(dir.resolve("agent.yaml") + ": datasets[0].location does not apply to an OMOP database; it is named"
        + " by database.url", fails("format: omop\nlocation: data\n" + DATABASE + MAPPING));
  }
}
