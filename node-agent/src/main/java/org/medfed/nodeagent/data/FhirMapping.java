package org.medfed.nodeagent.data;

import java.time.LocalDate;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * How a folder of FHIR R4 records ({@code format: fhir}) becomes a feature table: one row per
 * Patient, one column per declared feature, and a class from the declared label.
 *
 * <p>Each patient's <b>index date</b> anchors the table: Observation features aggregate the values
 * dated within {@code windowDays} up to and including it, Condition features count diagnoses dated
 * on or before it (an undated Condition counts), and age is taken on it. It is either a fixed date
 * for everyone, or {@code label}: the label's date where the patient has one (a Condition label's
 * earliest onset, an Observation label's latest Observation), and for everyone else the date of
 * their latest Observation, so controls are seen as of their last visit.
 *
 * @param windowDays how far before the index date Observations count, in days
 */
public record FhirMapping(List<Feature> features, Label label, IndexDate indexDate, int windowDays) {

  /** How the values of one Observation code within the window become one number. */
  public enum Aggregate { LAST, MEAN, MIN, MAX }

  /** A coding, matched by system and code exactly, e.g. {@code http://loinc.org|4548-4}. */
  public record Code(String system, String code) {
    /** Short names for the systems hospitals use most; any other system is written as its URI. */
    private static final Map<String, String> SYSTEMS = Map.of("loinc", "http://loinc.org", "snomed",
        "http://snomed.info/sct", "icd10", "http://hl7.org/fhir/sid/icd-10", "icd10cm",
        "http://hl7.org/fhir/sid/icd-10-cm");

    public Code {
      if (system == null || system.isBlank() || code == null || code.isBlank()) {
        throw new IllegalArgumentException("a code needs a system and a code, e.g. loinc|4548-4 or"
            + " http://snomed.info/sct|44054006, got '" + system + "|" + code + "'");
      }
    }

    /** Parses {@code SYSTEM|CODE}, where SYSTEM is a URI or one of loinc, snomed, icd10, icd10cm. */
    public static Code parse(String text) {
      int bar = text == null ? -1 : text.lastIndexOf('|');
      if (bar <= 0 || bar == text.length() - 1) {
        throw new IllegalArgumentException("'" + text + "' is not SYSTEM|CODE; write e.g. loinc|4548-4 or"
            + " http://snomed.info/sct|44054006 (short systems: " + SYSTEMS.keySet().stream().sorted().toList() + ")");
      }
      String system = text.substring(0, bar).trim();
      return new Code(SYSTEMS.getOrDefault(system.toLowerCase(Locale.ROOT), system), text.substring(bar + 1).trim());
    }

    @Override
    public String toString() {
      return system + "|" + code;
    }
  }

  /** One column of the table, named by {@code id} as jobs name their features. */
  public sealed interface Feature {
    String id();
  }

  /** An Observation code's numeric values ({@code valueQuantity}) within the window, aggregated. */
  public record Lab(String id, List<Code> codes, Aggregate aggregate) implements Feature {
    public Lab {
      codes = nonEmpty(id, codes);
      Objects.requireNonNull(aggregate, "aggregate");
    }
  }

  /** 1 when the patient has a Condition with one of the codes dated on or before the index date, else 0. */
  public record Diagnosis(String id, List<Code> codes) implements Feature {
    public Diagnosis {
      codes = nonEmpty(id, codes);
    }
  }

  /** From the Patient resource: age in whole years at the index date, or 1 when the gender is the one named. */
  public record Demographic(String id, PatientField field) implements Feature {
    public Demographic {
      if (id == null || id.isBlank()) {
        throw new IllegalArgumentException("every feature needs an id");
      }
      Objects.requireNonNull(field, "field");
    }
  }

  /** What a {@link Demographic} reads: {@code age}, or an indicator of one administrative gender. */
  public enum PatientField { AGE, FEMALE, MALE, OTHER }

  /** The class of each patient. */
  public sealed interface Label {
    List<Code> codes();
  }

  /** Class 1 (the second declared class) when the patient has a Condition with one of the codes, else 0. */
  public record ConditionLabel(List<Code> codes) implements Label {
    public ConditionLabel {
      codes = nonEmpty("label", codes);
    }
  }

  /**
   * Class 1 when the patient's latest Observation with one of the codes has a value above {@code above},
   * else 0; a patient without such an Observation has no label.
   */
  public record ObservationLabel(List<Code> codes, double above) implements Label {
    public ObservationLabel {
      codes = nonEmpty("label", codes);
      if (!Double.isFinite(above)) {
        throw new IllegalArgumentException("label.above must be a finite number, got " + above);
      }
    }
  }

  /**
   * Time to the patient's first Condition with one of the codes after the (fixed) index date, as
   * {@code [days, 1]}; without one, {@code [days to their latest Observation, 0]} (censored).
   */
  public record EventLabel(List<Code> codes) implements Label {
    public EventLabel {
      codes = nonEmpty("label", codes);
    }
  }

  /** How each patient's index date is chosen. */
  public sealed interface IndexDate {}

  /** The same date for every patient. */
  public record FixedDate(LocalDate date) implements IndexDate {
    public FixedDate {
      Objects.requireNonNull(date, "date");
    }
  }

  /** The label's date where the patient has one; otherwise their latest Observation's date. */
  public record AtLabel() implements IndexDate {}

  public FhirMapping {
    features = List.copyOf(features);
    Objects.requireNonNull(label, "label");
    Objects.requireNonNull(indexDate, "indexDate");
    if (features.isEmpty()) {
      throw new IllegalArgumentException("features must name at least one feature");
    }
    if (label instanceof EventLabel && indexDate instanceof AtLabel) {
      throw new IllegalArgumentException("an event label needs a fixed index_date (YYYY-MM-DD) to count time from");
    }
    if (windowDays < 1) {
      throw new IllegalArgumentException("window must be at least 1d, got " + windowDays + "d");
    }
    Set<String> ids = new HashSet<>();
    for (Feature feature : features) {
      if (!ids.add(feature.id())) {
        throw new IllegalArgumentException("features: id '" + feature.id() + "' appears twice; ids must be unique");
      }
      // A feature read from the label's own records would hand the model its answer.
      List<Code> codes = feature instanceof Lab lab ? lab.codes()
          : feature instanceof Diagnosis diagnosis ? diagnosis.codes() : List.of();
      for (Code code : codes) {
        if (label.codes().contains(code)) {
          throw new IllegalArgumentException("features: '" + feature.id() + "' reads " + code
              + ", the label's own code; a model would learn the label from it");
        }
      }
    }
  }

  public List<String> featureIds() {
    return features.stream().map(Feature::id).toList();
  }

  private static List<Code> nonEmpty(String id, List<Code> codes) {
    if (id == null || id.isBlank()) {
      throw new IllegalArgumentException("every feature needs an id");
    }
    if (codes == null || codes.isEmpty()) {
      throw new IllegalArgumentException("'" + id + "' must name at least one code");
    }
    return List.copyOf(codes);
  }
}
