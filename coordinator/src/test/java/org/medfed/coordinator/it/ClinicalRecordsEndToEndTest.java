package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ca.uhn.fhir.context.FhirContext;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.DatasetLoaders;
import org.medfed.nodeagent.data.FhirMapping;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.data.OmopMapping;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;
import org.medfed.testsupport.OmopDatabase;
import org.medfed.testsupport.PostgresCluster;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Issue 18's acceptance for clinical records: a job trains across two hospitals, one holding FHIR
 * Bundles and one an OMOP CDM database, mapped to the same five features (HbA1c, mean glucose, a
 * history of hypertension, age, female) and the same label (type 2 diabetes). Each hospital's table,
 * as its agent reads it, equals the one computed by hand from the records below.
 */
class ClinicalRecordsEndToEndTest {
  private static final List<String> FEATURES = List.of("hba1c", "glucose_mean", "hypertension", "age", "female");
  private static final LocalDate INDEX = LocalDate.of(2024, 1, 1);
  private static final String HBA1C_LOINC = "4548-4";
  private static final String GLUCOSE_LOINC = "2345-7";
  private static final String HYPERTENSION_SNOMED = "38341003";
  private static final String DIABETES_SNOMED = "44054006";
  private static final long HBA1C = 3004410;
  private static final long GLUCOSE = 3004501;
  private static final long HYPERTENSION = 316866;
  private static final long DIABETES = 201826;
  private static final long BODY_WEIGHT = 3025315;

  /** Hospital A's rows by hand: hba1c (last in 2023), glucose (mean in 2023), hypertension ever, age, female|label. */
  private static final List<String> FHIR_TABLE = List.of(
      "7.400,160.000,1.000,63.000,1.000|1",
      "5.100,92.000,0.000,48.000,0.000|0",
      "8.000,190.000,0.000,68.000,1.000|1",
      "5.300,88.000,1.000,33.000,0.000|0",
      "6.800,140.000,0.000,41.000,1.000|1",
      "5.600,99.000,1.000,55.000,0.000|0");
  /** Hospital B's rows by hand, in the same columns. */
  private static final List<String> OMOP_TABLE = List.of(
      "8.300,175.000,1.000,65.000,1.000|1",
      "5.000,85.000,0.000,38.000,0.000|0",
      "6.900,155.000,0.000,54.000,1.000|1",
      "5.400,101.000,1.000,75.000,0.000|0",
      "5.200,90.000,0.000,28.000,1.000|0",
      "7.500,165.000,1.000,61.000,0.000|1");

  @TempDir Path dir;

  @Test
  void jobTrainsAcrossFhirAndOmopHospitals_eachTableEqualsTheHandComputedOne() throws Exception {
    Path bin = PostgresCluster.binariesOrSkip("the FHIR + OMOP end-to-end test");
    try (PostgresCluster postgres = PostgresCluster.start(bin)) {
      DatasetDeclaration fhir = fhirHospital(dir.resolve("hospital-a"));
      DatasetDeclaration omop = omopHospital(postgres, dir.resolve("hospital-b"));

      assertEquals(sorted(FHIR_TABLE), rows(DatasetLoaders.load(fhir)));
      assertEquals(sorted(OMOP_TABLE), rows(DatasetLoaders.load(omop)));

      try (Federation federation = new Federation(dir.resolve("federation"))) {
        federation.agentFromFiles("hospital-a", fhir);
        federation.agentFromFiles("hospital-b", omop);
        String jobId = federation.submit("""
            name: diabetes
            dataset: diabetes
            model: {architecture: mlp, hidden: [4]}
            features: [%s]
            input_shape: [%d]
            num_classes: 2
            rounds: 2
            min_nodes: 2
            batch_size: 4
            learning_rate: 0.01
            seed: 7
            deadlines: {selection: 30s, training: 60s, evaluation: 30s}
            """.formatted(String.join(", ", FEATURES), FEATURES.size())).getJobId();
        federation.watch(jobId, Duration.ofMinutes(2));
        JobDetail detail = federation.job(jobId);

        assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
        assertEquals(List.of("hospital-a", "hospital-b"),
            detail.getRounds(1).getParticipantsList().stream().sorted().toList());
      }
    }
  }

  /** Every row of the dataset, train and test, as {@code f1,...,fn|class}, sorted: the split does not matter. */
  private static List<String> rows(LocalDataset dataset) {
    assertEquals(FEATURES, dataset.featureNames());
    List<String> rows = new ArrayList<>();
    for (DataSet part : List.of(dataset.train(), dataset.test())) {
      if (part.isEmpty() || part.numExamples() == 0) {
        continue;
      }
      INDArray features = part.getFeatures();
      INDArray labels = part.getLabels();
      for (int r = 0; r < features.rows(); r++) {
        StringBuilder row = new StringBuilder();
        for (int c = 0; c < features.columns(); c++) {
          row.append(c == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.3f", features.getDouble(r, c)));
        }
        rows.add(row.append('|').append(labels.getRow(r).argMax().getInt(0)).toString());
      }
    }
    return sorted(rows);
  }

  private static List<String> sorted(List<String> rows) {
    return rows.stream().sorted().toList();
  }

  /** Hospital A: one FHIR Bundle of six patients. */
  private static DatasetDeclaration fhirHospital(Path folder) throws Exception {
    FhirBundle bundle = new FhirBundle();
    bundle.patient("a1", AdministrativeGender.FEMALE, "1960-06-15")
        .lab(HBA1C_LOINC, "2023-03-01", 6.0).lab(HBA1C_LOINC, "2023-11-01", 7.4)
        .lab(GLUCOSE_LOINC, "2023-05-01", 150).lab(GLUCOSE_LOINC, "2023-09-01", 170)
        .condition(HYPERTENSION_SNOMED, "2018-05-01").condition(DIABETES_SNOMED, "2023-12-01");
    bundle.patient("a2", AdministrativeGender.MALE, "1975-02-10")
        .lab(HBA1C_LOINC, "2023-06-01", 5.1).lab(GLUCOSE_LOINC, "2023-06-01", 92);
    bundle.patient("a3", AdministrativeGender.FEMALE, "1955-12-31")
        .lab(HBA1C_LOINC, "2023-02-01", 8.0).lab(HBA1C_LOINC, "2024-03-01", 9.0)       // after the index date
        .lab(GLUCOSE_LOINC, "2023-02-01", 180).lab(GLUCOSE_LOINC, "2023-08-01", 200)
        .condition(HYPERTENSION_SNOMED, "2025-01-01").condition(DIABETES_SNOMED, "2022-01-01");
    bundle.patient("a4", AdministrativeGender.MALE, "1990-07-01")
        .lab(HBA1C_LOINC, "2023-10-01", 5.3).lab(GLUCOSE_LOINC, "2023-10-01", 88)
        .lab(GLUCOSE_LOINC, "2022-10-01", 300)                                          // before the window
        .condition(HYPERTENSION_SNOMED, "2023-06-01");
    bundle.patient("a5", AdministrativeGender.FEMALE, "1982-04-04")
        .lab(HBA1C_LOINC, "2023-04-01", 6.8).lab(GLUCOSE_LOINC, "2023-04-01", 140)
        .condition(DIABETES_SNOMED, "2023-04-15");
    bundle.patient("a6", AdministrativeGender.MALE, "1968-09-09")
        .lab(HBA1C_LOINC, "2023-01-01", 5.6).lab(GLUCOSE_LOINC, "2024-01-01", 99)
        .condition(HYPERTENSION_SNOMED, "2010-01-01");
    Files.createDirectories(folder);
    bundle.write(folder.resolve("bundle.json"));
    FhirMapping mapping = new FhirMapping(List.of(
        new FhirMapping.Lab("hba1c", List.of(FhirMapping.Code.parse("loinc|" + HBA1C_LOINC)),
            FhirMapping.Aggregate.LAST),
        new FhirMapping.Lab("glucose_mean", List.of(FhirMapping.Code.parse("loinc|" + GLUCOSE_LOINC)),
            FhirMapping.Aggregate.MEAN),
        new FhirMapping.Diagnosis("hypertension", List.of(FhirMapping.Code.parse("snomed|" + HYPERTENSION_SNOMED))),
        new FhirMapping.Demographic("age", FhirMapping.PatientField.AGE),
        new FhirMapping.Demographic("female", FhirMapping.PatientField.FEMALE)),
        new FhirMapping.ConditionLabel(List.of(FhirMapping.Code.parse("snomed|" + DIABETES_SNOMED))),
        new FhirMapping.FixedDate(INDEX), 365);
    return new DatasetDeclaration("diabetes", DatasetKind.CLINICAL, DatasetFormat.FHIR, folder, List.of("no", "yes"),
        DatasetDeclaration.Options.DEFAULTS.withFhir(mapping));
  }

  /** Hospital B: six people in an OMOP CDM v5.4 schema, read by a SELECT-only role. */
  private static DatasetDeclaration omopHospital(PostgresCluster postgres, Path folder) throws Exception {
    try (OmopDatabase omop = OmopDatabase.create(postgres, "hospital_b", "cdm")) {
      omop.role("medfed_reader", "reader-password");
      omop.person(101, OmopDatabase.FEMALE, 1958, 3, 3);
      omop.measurement(101, HBA1C, "2023-05-01", 7.9);
      omop.measurement(101, HBA1C, "2023-09-01", 8.3);
      omop.measurement(101, GLUCOSE, "2023-05-01", 175.0);
      omop.measurement(101, GLUCOSE, "2023-09-01", 185.0);
      omop.measurement(101, GLUCOSE, "2023-12-01", 165.0);
      omop.condition(101, HYPERTENSION, "2015-01-01");
      omop.condition(101, DIABETES, "2023-01-15");
      omop.person(102, OmopDatabase.MALE, 1985, 11, 20);
      omop.measurement(102, HBA1C, "2023-07-07", 5.0);
      omop.measurement(102, GLUCOSE, "2023-07-07", 85.0);
      omop.person(103, OmopDatabase.FEMALE, 1970, null, null);    // year of birth only: 2024 - 1970
      omop.measurement(103, HBA1C, "2023-03-03", 6.9);
      omop.measurement(103, GLUCOSE, "2023-03-03", 150.0);
      omop.measurement(103, GLUCOSE, "2023-08-08", 160.0);
      omop.condition(103, HYPERTENSION, "2024-06-01");             // after the index date
      omop.condition(103, DIABETES, "2024-02-01");
      omop.person(104, OmopDatabase.MALE, 1949, 1, 1);
      omop.measurement(104, HBA1C, "2023-12-31", 5.4);
      omop.measurement(104, GLUCOSE, "2023-12-31", 101.0);
      omop.measurement(104, BODY_WEIGHT, "2023-12-31", 82.0);      // not in the mapping: counted
      omop.condition(104, HYPERTENSION, "2020-02-02");
      omop.person(105, OmopDatabase.FEMALE, 1995, 5, 5);
      omop.measurement(105, HBA1C, "2023-02-02", 5.2);
      omop.measurement(105, GLUCOSE, "2023-02-02", 90.0);
      omop.person(106, OmopDatabase.MALE, 1962, 8, 8);
      omop.measurement(106, HBA1C, "2022-12-31", 9.9);             // the day before the window
      omop.measurement(106, HBA1C, "2023-06-06", 7.5);
      omop.measurement(106, GLUCOSE, "2023-06-06", 165.0);
      omop.condition(106, HYPERTENSION, "2021-01-01");
      omop.condition(106, DIABETES, "2020-10-10");
    }
    Files.createDirectories(folder);
    Path password = folder.resolve("omop-password");
    Files.writeString(password, "reader-password\n");
    OmopMapping mapping = new OmopMapping(
        new OmopMapping.Database(postgres.url("hospital_b"), "medfed_reader",
            new OmopMapping.PasswordFromFile(password), "cdm"),
        new OmopMapping.CohortQuery("SELECT p.person_id, DATE '" + INDEX + "' AS index_date, CASE WHEN EXISTS (SELECT"
            + " 1 FROM condition_occurrence d WHERE d.person_id = p.person_id AND d.condition_concept_id = " + DIABETES
            + ") THEN 1 ELSE 0 END AS label FROM person p"),
        List.of(
            new OmopMapping.Covariate("hba1c", OmopMapping.Domain.MEASUREMENT, List.of(HBA1C),
                OmopMapping.Aggregate.LAST),
            new OmopMapping.Covariate("glucose_mean", OmopMapping.Domain.MEASUREMENT, List.of(GLUCOSE),
                OmopMapping.Aggregate.MEAN),
            // FHIR's Condition features count any diagnosis up to the index date: a century's window here.
            new OmopMapping.Covariate("hypertension", OmopMapping.Domain.CONDITION, List.of(HYPERTENSION),
                OmopMapping.Aggregate.PRESENT, OptionalInt.of(36_500)),
            new OmopMapping.PersonFeature("age", OmopMapping.PersonField.AGE),
            new OmopMapping.PersonFeature("female", OmopMapping.PersonField.FEMALE)),
        365);
    return new DatasetDeclaration("diabetes", DatasetKind.CLINICAL, DatasetFormat.OMOP,
        Path.of(mapping.database().describe()), List.of("no", "yes"),
        DatasetDeclaration.Options.DEFAULTS.withOmop(mapping));
  }

  /** A FHIR R4 collection Bundle built with HAPI, patients referred to by {@code Patient/ID}. */
  private static final class FhirBundle {
    private final Bundle bundle = new Bundle().setType(Bundle.BundleType.COLLECTION);
    private String subject;

    FhirBundle patient(String id, AdministrativeGender gender, String birthDate) {
      Patient patient = new Patient();
      patient.setId(id);
      patient.setGender(gender);
      patient.setBirthDateElement(new DateType(birthDate));
      bundle.addEntry().setFullUrl("Patient/" + id).setResource(patient);
      subject = "Patient/" + id;
      return this;
    }

    FhirBundle lab(String loinc, String date, double value) {
      Observation observation = new Observation();
      observation.setStatus(Observation.ObservationStatus.FINAL);
      observation.setCode(new CodeableConcept().addCoding(new Coding("http://loinc.org", loinc, null)));
      observation.setSubject(new Reference(subject));
      observation.setEffective(new DateTimeType(date));
      observation.setValue(new Quantity().setValue(BigDecimal.valueOf(value)));
      bundle.addEntry().setResource(observation);
      return this;
    }

    FhirBundle condition(String snomed, String onset) {
      Condition condition = new Condition();
      condition.setCode(new CodeableConcept().addCoding(new Coding("http://snomed.info/sct", snomed, null)));
      condition.setSubject(new Reference(subject));
      condition.setOnset(new DateTimeType(onset));
      bundle.addEntry().setResource(condition);
      return this;
    }

    void write(Path file) throws Exception {
      Files.writeString(file, FhirContext.forR4Cached().newJsonParser().encodeResourceToString(bundle));
    }
  }
}
