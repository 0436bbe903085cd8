package org.medfed.nodeagent.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.FhirMapping;

class FhirMappingConfigTest {
  private static final String HEAD = """
      node_id: hospital-a
      coordinator: localhost:7443
      insecure_plaintext: true
      datasets:
        - name: diabetes
          kind: clinical
          format: fhir
          location: data/fhir
          classes: [no, yes]
      """;

  @TempDir Path dir;

  private Path write(String mapping) throws Exception {
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, HEAD + mapping.indent(4));
    return file;
  }

  @Test
  void load_fhirDataset_readsTheMapping() throws Exception {
    DatasetDeclaration dataset = AgentConfigLoader.load(write("""
        mapping:
          index_date: 2024-01-01
          window: 365d
          features:
            - {id: hba1c, observation: loinc|4548-4, aggregate: last}
            - {id: hypertension, condition: [snomed|38341003, "http://hl7.org/fhir/sid/icd-10|I10"]}
            - {id: age, patient: age}
          label: {condition: snomed|44054006}
        """)).datasets().get(0);

    assertEquals(DatasetFormat.FHIR, dataset.format());
    FhirMapping mapping = dataset.options().fhir().orElseThrow();
    assertEquals(List.of("hba1c", "hypertension", "age"), mapping.featureIds());
    assertEquals(new FhirMapping.Lab("hba1c", List.of(new FhirMapping.Code("http://loinc.org", "4548-4")),
        FhirMapping.Aggregate.LAST), mapping.features().get(0));
    assertEquals(List.of(new FhirMapping.Code("http://snomed.info/sct", "38341003"),
        new FhirMapping.Code("http://hl7.org/fhir/sid/icd-10", "I10")),
        ((FhirMapping.Diagnosis) mapping.features().get(1)).codes());
    assertEquals(new FhirMapping.FixedDate(LocalDate.of(2024, 1, 1)), mapping.indexDate());
    assertEquals(365, mapping.windowDays());
    assertEquals(new FhirMapping.ConditionLabel(List.of(new FhirMapping.Code("http://snomed.info/sct", "44054006"))),
        mapping.label());
  }

  @Test
  void load_mappingWithoutWindow_namesTheField() throws Exception {
    Path file = write("""
        mapping:
          index_date: label
          features: [{id: age, patient: age}]
          label: {condition: snomed|44054006}
        """);

    Exception e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file));

    assertEquals(file + ": datasets[0].mapping is missing required field 'window'", e.getMessage());
  }

  @Test
  void load_observationWithoutAggregate_namesTheFeature() throws Exception {
    Path file = write("""
        mapping:
          index_date: label
          window: 30d
          features: [{id: age, patient: age}, {id: hba1c, observation: loinc|4548-4}]
          label: {condition: snomed|44054006}
        """);

    Exception e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file));

    assertEquals(file + ": datasets[0].mapping.features[1] is missing required field 'aggregate'", e.getMessage());
  }

  @Test
  void load_unknownAggregate_listsTheChoices() throws Exception {
    Path file = write("""
        mapping:
          index_date: label
          window: 30d
          features: [{id: hba1c, observation: loinc|4548-4, aggregate: median}]
          label: {condition: snomed|44054006}
        """);

    Exception e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file));

    assertEquals(file + ": datasets[0].mapping.features[0].aggregate is 'median'; expected one of [last, mean, min,"
        + " max]", e.getMessage());
  }

  @Test
  void load_codeWithoutSystem_showsTheForm() throws Exception {
    Path file = write("""
        mapping:
          index_date: 2024-01-01
          window: 30d
          features: [{id: hba1c, observation: 4548-4, aggregate: last}]
          label: {condition: snomed|44054006}
        """);

    Exception e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file));

    assertTrue(e.getMessage().startsWith(file + ": datasets[0].mapping.features[0].observation: '4548-4' is not"
        + " SYSTEM|CODE"), e.getMessage());
  }

  @Test
  void load_observationLabelWithoutThreshold_namesTheField() throws Exception {
    Path file = write("""
        mapping:
          index_date: 2024-01-01
          window: 30d
          features: [{id: age, patient: age}]
          label: {observation: loinc|4548-4}
        """);

    Exception e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file));

    assertTrue(e.getMessage().startsWith(file + ": datasets[0].mapping.label.above must be a number"), e.getMessage());
  }

  @Test
  void load_fhirSurvival_readsTheEventLabelWithoutClasses() throws Exception {
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, HEAD.replace("format: fhir", "format: fhir_survival").replace("    classes: [no, yes]\n",
        "") + """
        mapping:
          index_date: 2020-01-01
          window: 365d
          features: [{id: age, patient: age}]
          label: {event: snomed|22298006}
        """.indent(4));

    DatasetDeclaration dataset = AgentConfigLoader.load(file).datasets().get(0);

    assertEquals(List.of(), dataset.classes());
    assertEquals(new FhirMapping.EventLabel(List.of(new FhirMapping.Code("http://snomed.info/sct", "22298006"))),
        dataset.options().fhir().orElseThrow().label());
  }

  @Test
  void load_fhirWithoutMapping_saysWhatIsMissing() throws Exception {
    Path file = write("");

    Exception e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file));

    assertTrue(e.getMessage().contains("datasets[0]: dataset 'diabetes': format fhir needs a 'mapping'"),
        e.getMessage());
  }
}
