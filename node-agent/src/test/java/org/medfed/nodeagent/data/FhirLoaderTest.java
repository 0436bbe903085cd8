package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FhirLoaderTest {
  private static final String LOINC = "http://loinc.org";
  private static final String SNOMED = "http://snomed.info/sct";
  private static final String ICD10 = "http://hl7.org/fhir/sid/icd-10";
  private static final FhirContext FHIR = FhirContext.forR4Cached();
  private static final FhirMapping.Code DIABETES = new FhirMapping.Code(SNOMED, "44054006");
  private static final List<FhirMapping.Feature> FEATURES = List.of(
      new FhirMapping.Lab("hba1c_last", List.of(FhirMapping.Code.parse("loinc|4548-4")), FhirMapping.Aggregate.LAST),
      new FhirMapping.Lab("glucose_mean", List.of(FhirMapping.Code.parse("loinc|2345-7")), FhirMapping.Aggregate.MEAN),
      new FhirMapping.Lab("sbp_max", List.of(FhirMapping.Code.parse("loinc|8480-6")), FhirMapping.Aggregate.MAX),
      new FhirMapping.Diagnosis("hypertension", List.of(FhirMapping.Code.parse("snomed|38341003"),
          FhirMapping.Code.parse("icd10|I10"))),
      new FhirMapping.Demographic("age", FhirMapping.PatientField.AGE),
      new FhirMapping.Demographic("female", FhirMapping.PatientField.FEMALE));
  private static final FhirMapping MAPPING = new FhirMapping(FEATURES, new FhirMapping.ConditionLabel(
      List.of(DIABETES)), new FhirMapping.FixedDate(LocalDate.of(2024, 1, 1)), 365);

  @TempDir Path dir;

  private DatasetDeclaration declaration(FhirMapping mapping, boolean skip) {
    return new DatasetDeclaration("diabetes", DatasetKind.CLINICAL, DatasetFormat.FHIR, dir, List.of("no", "yes"),
        DatasetDeclaration.Options.DEFAULTS.withFhir(mapping).withSkipBadRows(skip));
  }

  private static Patient patient(String id, AdministrativeGender gender, String birth) {
    Patient patient = new Patient();
    patient.setId(id);
    patient.setGender(gender);
    patient.setBirthDateElement(new DateType(birth));
    return patient;
  }

  private static Observation observation(String subject, String loinc, String date, double value) {
    Observation observation = new Observation();
    observation.setStatus(Observation.ObservationStatus.FINAL);
    observation.setCode(new CodeableConcept().addCoding(new org.hl7.fhir.r4.model.Coding(LOINC, loinc, null)));
    observation.setSubject(new Reference(subject));
    observation.setEffective(new DateTimeType(date + "T09:30:00+01:00"));
    observation.setValue(new Quantity().setValue(BigDecimal.valueOf(value)).setUnit("x"));
    return observation;
  }

  /** A blood pressure panel: the systolic value sits in a component, as hospital systems write it. */
  private static Observation bloodPressure(String subject, String date, double systolic) {
    Observation panel = observation(subject, "85354-9", date, 0);
    panel.setValue(null);
    panel.addComponent().setCode(new CodeableConcept().addCoding(new org.hl7.fhir.r4.model.Coding(LOINC, "8480-6",
        null))).setValue(new Quantity().setValue(BigDecimal.valueOf(systolic)).setUnit("mm[Hg]"));
    return panel;
  }

  private static Condition condition(String subject, String system, String code, String onset) {
    Condition condition = new Condition();
    condition.setCode(new CodeableConcept().addCoding(new org.hl7.fhir.r4.model.Coding(system, code, null)));
    condition.setSubject(new Reference(subject));
    if (onset != null) {
      condition.setOnset(new DateTimeType(onset));
    }
    return condition;
  }

  /** Patients 1 and 2 in a Bundle referring by urn:uuid, as Synthea and transaction exports do. */
  private void writeBundle() throws Exception {
    String p1 = "urn:uuid:00000000-0000-0000-0000-000000000001";
    String p2 = "urn:uuid:00000000-0000-0000-0000-000000000002";
    Bundle bundle = new Bundle().setType(Bundle.BundleType.COLLECTION);
    bundle.addEntry().setFullUrl(p1).setResource(patient("p1", AdministrativeGender.FEMALE, "1960-06-15"));
    bundle.addEntry().setFullUrl(p2).setResource(patient("p2", AdministrativeGender.MALE, "1980-01-01"));
    for (Resource resource : List.<Resource>of(
        observation(p1, "4548-4", "2023-03-01", 5.5),
        observation(p1, "4548-4", "2023-11-01", 7.1),
        observation(p1, "4548-4", "2024-02-01", 9.9),   // after the index date: not seen
        observation(p1, "2345-7", "2023-05-01", 100),
        observation(p1, "2345-7", "2023-09-01", 140),
        observation(p1, "2345-7", "2022-06-01", 300),   // before the window: not seen
        bloodPressure(p1, "2023-06-01", 130),
        bloodPressure(p1, "2023-12-01", 150),
        condition(p1, SNOMED, "38341003", "2020-01-01"),
        condition(p1, SNOMED, "44054006", "2024-03-01"),
        observation(p2, "4548-4", "2023-01-01", 5.0),    // the window's first day
        observation(p2, "2345-7", "2023-12-31", 90),
        bloodPressure(p2, "2024-01-01", 120),            // the index date itself
        condition(p2, ICD10, "I10", "2025-01-01"))) {   // diagnosed after the index date: 0
      bundle.addEntry().setFullUrl("urn:uuid:" + java.util.UUID.randomUUID()).setResource(resource);
    }
    Files.writeString(dir.resolve("bundle.json"), FHIR.newJsonParser().setPrettyPrint(true)
        .encodeResourceToString(bundle));
  }

  /** Patients 3 and 4 as a bulk export writes them: one NDJSON file per resource type, Patient/ID references. */
  private void writeNdjson() throws Exception {
    Condition recorded = condition("Patient/p3", SNOMED, "44054006", null);
    recorded.setRecordedDateElement(new DateTimeType("2019-01-01"));
    writeNdjson("Patient.ndjson", patient("p3", AdministrativeGender.FEMALE, "1950-12-31"),
        patient("p4", AdministrativeGender.MALE, "1990-07-01"));
    writeNdjson("Observation.ndjson",
        observation("Patient/p3", "4548-4", "2023-07-01", 6.0),
        observation("Patient/p3", "2345-7", "2023-02-01", 110),
        observation("Patient/p3", "2345-7", "2023-04-01", 130),
        observation("Patient/p3", "2345-7", "2023-06-01", 150),
        bloodPressure("Patient/p3", "2023-08-01", 140),
        observation("Patient/p3", "8302-2", "2023-08-01", 165),   // body height: not in the mapping
        observation("Patient/p3", "8302-2", "2023-09-01", 166),
        observation("Patient/p4", "4548-4", "2023-10-01", 5.2),
        observation("Patient/p4", "2345-7", "2023-10-01", 95),
        bloodPressure("Patient/p4", "2023-10-01", 118));
    writeNdjson("Condition.ndjson", recorded,
        condition("Patient/p3", SNOMED, "195662009", "2022-01-01"),   // not in the mapping
        condition("Patient/p4", SNOMED, "38341003", null));           // undated: counts
  }

  private void writeNdjson(String name, Resource... resources) throws Exception {
    IParser parser = FHIR.newJsonParser();
    Files.createDirectories(dir.resolve(name).getParent());
    Files.writeString(dir.resolve(name), java.util.Arrays.stream(resources).map(parser::encodeResourceToString)
        .collect(Collectors.joining("\n", "", "\n")));
  }

  private static float[][] matrix(CsvTable.Rows<Integer> rows) {
    return rows.values().toArray(new float[0][]);
  }

  @Test
  void table_bundleAndNdjson_equalsTheHandComputedTable() throws Exception {
    writeBundle();
    writeNdjson();

    FhirLoader.Table<Integer> table = FhirLoader.classTable(declaration(MAPPING, false), new BadRows(false));

    assertEquals(List.of("p1", "p2", "p3", "p4"), table.ids());
    assertEquals(List.of("hba1c_last", "glucose_mean", "sbp_max", "hypertension", "age", "female"),
        table.rows().features());
    float[][] expected = {
        {7.1f, 120f, 150f, 1f, 63f, 1f},
        {5.0f, 90f, 120f, 0f, 44f, 0f},
        {6.0f, 130f, 140f, 0f, 73f, 1f},
        {5.2f, 95f, 118f, 1f, 33f, 0f}};
    float[][] actual = matrix(table.rows());
    for (int r = 0; r < expected.length; r++) {
      assertArrayEquals(expected[r], actual[r], 1e-5f, "row of " + table.ids().get(r));
    }
    assertEquals(List.of(1, 0, 1, 0), table.rows().labels());
  }

  @Test
  void table_codesTheMappingDoesNotName_areCountedInOneSummary() throws Exception {
    writeBundle();
    writeNdjson();

    FhirLoader.Table<Integer> table = FhirLoader.classTable(declaration(MAPPING, false), new BadRows(false));

    assertEquals(2, table.read().unknownCount("Observation"));
    assertEquals(1, table.read().unknownCount("Condition"));
    assertTrue(table.summary().contains("2 Observation(s) with codes the mapping does not name (1 codes, most"
        + " frequent: http://loinc.org|8302-2 x2)"), table.summary());
    assertTrue(table.summary().contains("1 Condition(s)"), table.summary());
    assertTrue(table.summary().startsWith("dataset 'diabetes': 4 of 4 patients in the table"), table.summary());
  }

  @Test
  void table_sameObservationInTwoFiles_isReadOnceAndCounted() throws Exception {
    writeNdjson();
    Observation again = observation("Patient/p3", "2345-7", "2023-05-01", 1000);
    again.setId("glucose-1");
    writeNdjson("more/Observation.ndjson", again);
    writeNdjson("more/Observation-copy.ndjson", again);

    FhirLoader.Table<Integer> table = FhirLoader.classTable(declaration(MAPPING, false), new BadRows(false));

    assertEquals((110 + 130 + 150 + 1000) / 4f, table.rows().values().get(0)[1], 1e-4f);
    assertTrue(table.summary().contains("; 1 Observation(s) and Condition(s) appeared again with the same id and were"
        + " read once"), table.summary());
  }

  @Test
  void load_fhirFolder_isSplitNormalisedAndAlignedAsATable() throws Exception {
    writeBundle();
    writeNdjson();

    LocalDataset data = DatasetLoaders.load(new DatasetDeclaration("diabetes", DatasetKind.CLINICAL,
        DatasetFormat.FHIR, dir, List.of("no", "yes"), DatasetDeclaration.Options.DEFAULTS.withFhir(MAPPING)
        .withNormalisation(Normalisation.ZSCORE)));

    assertEquals(3, data.trainSamples());
    assertEquals(1, data.testSamples());
    assertEquals(MAPPING.featureIds(), data.featureNames());
    assertEquals(0.0, data.train().getFeatures().mean(0).getDouble(4), 1e-5);   // age, z-scored on train
    FeatureAlignment.Result aligned = FeatureAlignment.align(data, List.of("age", "hba1c_last"),
        MissingFeatures.FAIL);
    assertEquals(List.of("age", "hba1c_last"), aligned.dataset().orElseThrow().featureNames());
  }

  @Test
  void load_malformedNdjsonLine_namesTheFileAndLine() throws Exception {
    writeNdjson();
    List<String> lines = new ArrayList<>(Files.readAllLines(dir.resolve("Observation.ndjson")));
    lines.set(1, lines.get(1).replace("2023-02-01T09:30:00+01:00", "yesterday"));
    Files.write(dir.resolve("Observation.ndjson"), lines);

    DataLoadException e = assertThrows(DataLoadException.class,
        () -> DatasetLoaders.load(declaration(MAPPING, false)));

    assertTrue(e.getMessage().startsWith(dir.resolve("Observation.ndjson") + ":2: Observation is malformed"),
        e.getMessage());
    assertTrue(e.getMessage().contains("yesterday"), e.getMessage());
  }

  @Test
  void load_truncatedNdjsonLine_namesTheFileAndLine() throws Exception {
    writeNdjson();
    List<String> lines = new ArrayList<>(Files.readAllLines(dir.resolve("Condition.ndjson")));
    lines.set(2, lines.get(2).substring(0, 40));
    Files.write(dir.resolve("Condition.ndjson"), lines);

    DataLoadException e = assertThrows(DataLoadException.class,
        () -> DatasetLoaders.load(declaration(MAPPING, false)));

    assertTrue(e.getMessage().startsWith(dir.resolve("Condition.ndjson") + ":3: not valid JSON"), e.getMessage());
  }

  @Test
  void load_malformedBundleEntry_namesTheFileAndEntryIndex() throws Exception {
    writeBundle();
    String json = Files.readString(dir.resolve("bundle.json"));
    // Entry 2 is p1's first HbA1c: a quantity whose value is text.
    Files.writeString(dir.resolve("bundle.json"), json.replaceFirst("\"value\": 5.5", "\"value\": \"five\""));

    DataLoadException e = assertThrows(DataLoadException.class,
        () -> DatasetLoaders.load(declaration(MAPPING, false)));

    assertTrue(e.getMessage().startsWith(dir.resolve("bundle.json") + ": entry[2]: Observation is malformed"),
        e.getMessage());
  }

  @Test
  void load_malformedResourceAndSkip_leavesItOutAndCountsIt() throws Exception {
    writeBundle();
    writeNdjson();
    Files.writeString(dir.resolve("Observation.ndjson"), "{\"resourceType\": \"Observation\", \"status\": \n",
        java.nio.file.StandardOpenOption.APPEND);

    DatasetLoaders.Loaded loaded = DatasetLoaders.loadReporting(declaration(MAPPING, true));

    assertEquals(1, loaded.skipped().size());
    assertTrue(loaded.skipped().get(0).startsWith(dir.resolve("Observation.ndjson") + ":11: not valid JSON"),
        loaded.skipped().toString());
    assertEquals(4, loaded.dataset().trainSamples() + loaded.dataset().testSamples());
  }

  @Test
  void table_patientWithoutTheObservationLabel_failsNamingThePatientOrIsSkipped() throws Exception {
    writeNdjson();
    FhirMapping glucoseLabel = new FhirMapping(List.of(FEATURES.get(0), FEATURES.get(4)),
        new FhirMapping.ObservationLabel(List.of(FhirMapping.Code.parse("loinc|8302-2")), 165.5),
        new FhirMapping.FixedDate(LocalDate.of(2024, 1, 1)), 365);

    DataLoadException e = assertThrows(DataLoadException.class,
        () -> FhirLoader.classTable(declaration(glucoseLabel, false), new BadRows(false)));
    BadRows skipping = new BadRows(true);
    FhirLoader.Table<Integer> table = FhirLoader.classTable(declaration(glucoseLabel, true), skipping);

    assertTrue(e.getMessage().contains("patient 'p4'") && e.getMessage().contains("has no Observation"
        + " [http://loinc.org|8302-2] for the label"), e.getMessage());
    assertEquals(List.of("p3"), table.ids());
    assertEquals(List.of(1), table.rows().labels());   // the latest height, 166, is above 165.5
    assertEquals(1, skipping.skipped().size());
  }

  @Test
  void table_noObservationInTheWindow_isABadRowLikeAnEmptyCell() throws Exception {
    writeNdjson();
    FhirMapping earlier = new FhirMapping(FEATURES, MAPPING.label(), new FhirMapping.FixedDate(
        LocalDate.of(2023, 9, 1)), 62);

    DataLoadException e = assertThrows(DataLoadException.class,
        () -> FhirLoader.classTable(declaration(earlier, false), new BadRows(false)));

    assertTrue(e.getMessage().contains("patient 'p3'") && e.getMessage().contains("feature 'glucose_mean'")
        && e.getMessage().contains("dated 2023-07-01 to 2023-09-01"), e.getMessage());
  }

  @Test
  void table_indexDateAtLabel_seesCasesAtDiagnosisAndControlsAtTheirLastObservation() throws Exception {
    writeBundle();
    FhirMapping atLabel = new FhirMapping(List.of(FEATURES.get(0), FEATURES.get(4)), MAPPING.label(),
        new FhirMapping.AtLabel(), 365);

    FhirLoader.Table<Integer> table = FhirLoader.classTable(declaration(atLabel, false), new BadRows(false));

    // p1 at its diagnosis, 2024-03-01: HbA1c 9.9 of 2024-02-01 is the last, age 63.
    // p2 at its last Observation, 2024-01-01: HbA1c 5.0 of 2023-01-01 is 365 days before, age 44.
    assertArrayEquals(new float[] {9.9f, 63f}, matrix(table.rows())[0], 1e-5f);
    assertArrayEquals(new float[] {5.0f, 44f}, matrix(table.rows())[1], 1e-5f);
    assertEquals(List.of(1, 0), table.rows().labels());
  }

  @Test
  void survivalTable_eventCondition_givesDaysToEventOrToTheLastObservation() throws Exception {
    writeBundle();
    writeNdjson();
    FhirMapping event = new FhirMapping(List.of(FEATURES.get(0), FEATURES.get(4)),
        new FhirMapping.EventLabel(List.of(DIABETES)), new FhirMapping.FixedDate(LocalDate.of(2023, 6, 1)), 365);
    DatasetDeclaration survival = new DatasetDeclaration("diabetes", DatasetKind.CLINICAL,
        DatasetFormat.FHIR_SURVIVAL, dir, List.of(), DatasetDeclaration.Options.DEFAULTS.withFhir(event));

    DataLoadException prevalent = assertThrows(DataLoadException.class,
        () -> FhirLoader.survivalTable(survival, new BadRows(false)));
    BadRows skipping = new BadRows(true);
    FhirLoader.Table<float[]> table = FhirLoader.survivalTable(survival, skipping);

    assertTrue(prevalent.getMessage().contains("patient 'p3'") && prevalent.getMessage().contains("on 2019-01-01,"
        + " before the index date 2023-06-01, so was not at risk"), prevalent.getMessage());
    // p1: diagnosed 2024-03-01, 274 days on; p2: no event, last seen 2024-01-01, 214 days on.
    // p3 had diabetes before the index date; p4 has no HbA1c in the window: both bad rows, skipped.
    assertEquals(List.of("p1", "p2"), table.ids());
    assertArrayEquals(new float[] {274f, 1f}, table.rows().labels().get(0));
    assertArrayEquals(new float[] {214f, 0f}, table.rows().labels().get(1));
    assertArrayEquals(new float[] {5.5f, 62f}, table.rows().values().get(0), 1e-5f);
    assertArrayEquals(new float[] {5.0f, 43f}, table.rows().values().get(1), 1e-5f);
    assertEquals(2, skipping.skipped().size());
    LocalDataset data = DatasetLoaders.load(new DatasetDeclaration("diabetes", DatasetKind.CLINICAL,
        DatasetFormat.FHIR_SURVIVAL, dir, List.of(), DatasetDeclaration.Options.DEFAULTS.withFhir(event)
        .withSkipBadRows(true)));
    assertEquals(List.of(), data.classes());
    assertEquals(2, data.train().getLabels().columns());
  }

  @Test
  void declaration_eventLabelUnderFormatFhir_pointsToFhirSurvival() {
    FhirMapping event = new FhirMapping(FEATURES, new FhirMapping.EventLabel(List.of(DIABETES)),
        MAPPING.indexDate(), 365);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> declaration(event, false));

    assertTrue(e.getMessage().contains("needs format fhir_survival"), e.getMessage());
  }

  @Test
  void mapping_featureReadingTheLabelsCode_isRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FhirMapping(
        List.of(new FhirMapping.Diagnosis("diabetes", List.of(DIABETES))), MAPPING.label(), MAPPING.indexDate(), 365));

    assertTrue(e.getMessage().contains("'diabetes' reads http://snomed.info/sct|44054006, the label's own code"),
        e.getMessage());
  }

  @Test
  void declaration_fhirWithoutMapping_isRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DatasetDeclaration(
        "diabetes", DatasetKind.CLINICAL, DatasetFormat.FHIR, dir, List.of("no", "yes")));

    assertTrue(e.getMessage().contains("format fhir needs a 'mapping'"), e.getMessage());
  }
}
