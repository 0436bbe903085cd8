package org.medfed.nodeagent.data;

import java.time.LocalDate;
import java.time.Period;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Reads FHIR R4 records ({@code format: fhir} and {@code fhir_survival}) into the table a CSV loader
 * builds: one row per patient, the mapping's features as named columns, the label as a class index
 * or {@code [time, event]}. From there it is a table like any other ({@link RecordTables}).
 *
 * <p>A patient lacking a feature value (no Observation in the window, no birth date for age) or
 * the label is a bad row, as an empty CSV cell is: it fails the load or, with {@code bad_rows:
 * skip}, is left out and counted.
 */
final class FhirLoader {
  private FhirLoader() {}

  /** Each kept patient's id, in row order, with the table; and the summary of codes the mapping does not name. */
  record Table<L>(List<String> ids, CsvTable.Rows<L> rows, FhirRecords.Read read, String summary)
      implements RecordTables.Table<L> {}

  /** One patient's label, from their facts and index date; throws {@link DataLoadException} naming {@code where}. */
  private interface Labeller<L> {
    L label(FhirMapping mapping, FhirRecords.Facts facts, LocalDate index, String where);
  }

  static LocalDataset load(DatasetDeclaration declaration, BadRows badRows) {
    return RecordTables.load(declaration, () -> survivalTable(declaration, badRows),
        () -> classTable(declaration, badRows));
  }

  /** The table with class indexes: 1 (the second class) where the label is present. */
  static Table<Integer> classTable(DatasetDeclaration declaration, BadRows badRows) {
    return table(declaration, badRows, FhirLoader::classOf);
  }

  /** The table with {@code [time in days, event]} per patient, as {@code csv_survival} reads it. */
  static Table<float[]> survivalTable(DatasetDeclaration declaration, BadRows badRows) {
    return table(declaration, badRows, FhirLoader::outcome);
  }

  /** The whole table, patients in id order, before the split. */
  private static <L> Table<L> table(DatasetDeclaration declaration, BadRows badRows, Labeller<L> labeller) {
    FhirMapping mapping = declaration.options().fhir().orElseThrow(() -> new DataLoadException("dataset '"
        + declaration.name() + "': format fhir needs a 'mapping' naming its features and label"));
    FhirRecords.Read read = FhirRecords.read(declaration.location(), mapping, badRows);
    List<String> ids = new ArrayList<>();
    List<float[]> values = new ArrayList<>();
    List<L> labels = new ArrayList<>();
    for (FhirRecords.Person person : read.patients()) {
      String where = "dataset '" + declaration.name() + "': patient '" + person.id() + "' (" + person.where() + ")";
      try {
        FhirRecords.Facts facts = read.facts().get(person.id());
        LocalDate index = indexDate(mapping, facts, where);
        L label = labeller.label(mapping, facts, index, where);
        float[] row = new float[mapping.features().size()];
        for (int f = 0; f < row.length; f++) {
          row[f] = value(mapping, f, person, facts, index, where);
        }
        ids.add(person.id());
        values.add(row);
        labels.add(label);
      } catch (DataLoadException problem) {
        badRows.report(problem);
      }
    }
    return new Table<>(ids, new CsvTable.Rows<>(mapping.featureIds(), values, labels), read,
        summary(declaration.name(), read, ids.size()));
  }

  private static LocalDate indexDate(FhirMapping mapping, FhirRecords.Facts facts, String where) {
    if (mapping.indexDate() instanceof FhirMapping.FixedDate fixed) {
      return fixed.date();
    }
    if (mapping.label() instanceof FhirMapping.ObservationLabel) {
      return latest(facts.labelValues).map(FhirRecords.Measurement::date)
          .orElseThrow(() -> noLabel(mapping.label(), where));
    }
    if (!facts.labelDiagnoses.isEmpty()) {
      return facts.labelDiagnoses.stream().flatMap(Optional::stream).min(Comparator.naturalOrder())
          .orElseThrow(() -> new DataLoadException(where + ": its label Condition has neither onset nor recordedDate,"
              + " so index_date: label cannot place it; date it or declare a fixed index_date"));
    }
    return facts.lastObservation.orElseThrow(() -> new DataLoadException(where + ": has no dated Observation, so"
        + " index_date: label has no date to see this control at"));
  }

  private static int classOf(FhirMapping mapping, FhirRecords.Facts facts, LocalDate index, String where) {
    if (mapping.label() instanceof FhirMapping.ObservationLabel observed) {
      FhirRecords.Measurement latest = latest(facts.labelValues).orElseThrow(() -> noLabel(observed, where));
      return latest.value() > observed.above() ? 1 : 0;
    }
    return facts.labelDiagnoses.isEmpty() ? 0 : 1;
  }

  /**
   * Days from the index date to the first event, observed; else to the latest Observation after
   * the index date, censored. A patient with the event before the index date was not at risk.
   */
  private static float[] outcome(FhirMapping mapping, FhirRecords.Facts facts, LocalDate index, String where) {
    if (facts.labelDiagnoses.stream().anyMatch(Optional::isEmpty)) {
      throw new DataLoadException(where + ": its event Condition " + mapping.label().codes() + " has neither onset"
          + " nor recordedDate, so the time to it cannot be counted");
    }
    Optional<LocalDate> event = facts.labelDiagnoses.stream().flatMap(Optional::stream).min(Comparator.naturalOrder());
    if (event.isPresent() && event.get().isBefore(index)) {
      throw new DataLoadException(where + ": had the event " + mapping.label().codes() + " on " + event.get()
          + ", before the index date " + index + ", so was not at risk (declare bad_rows: skip to leave such patients"
          + " out)");
    }
    if (event.isPresent()) {
      return new float[] {ChronoUnit.DAYS.between(index, event.get()), 1f};
    }
    LocalDate last = facts.lastObservation.filter(date -> date.isAfter(index)).orElseThrow(() -> new DataLoadException(
        where + ": has no Observation after the index date " + index + " and no event, so has no follow-up to censor"
        + " at (declare bad_rows: skip to leave such patients out)"));
    return new float[] {ChronoUnit.DAYS.between(index, last), 0f};
  }

  private static DataLoadException noLabel(FhirMapping.Label label, String where) {
    return new DataLoadException(where + ": has no Observation " + label.codes() + " for the label; every patient"
        + " needs a label (declare bad_rows: skip to leave such patients out)");
  }

  private static float value(FhirMapping mapping, int f, FhirRecords.Person person, FhirRecords.Facts facts,
      LocalDate index, String where) {
    FhirMapping.Feature feature = mapping.features().get(f);
    if (feature instanceof FhirMapping.Lab lab) {
      LocalDate from = index.minusDays(mapping.windowDays());
      List<FhirRecords.Measurement> inWindow = facts.labs.getOrDefault(f, List.of()).stream()
          .filter(m -> !m.date().isBefore(from) && !m.date().isAfter(index)).toList();
      if (inWindow.isEmpty()) {
        throw new DataLoadException(where + ": no Observation " + lab.codes() + " for feature '" + lab.id()
            + "' dated " + from + " to " + index + "; a missing value is a bad row, as an empty CSV cell is"
            + " (declare bad_rows: skip to leave such patients out)");
      }
      return (float) switch (lab.aggregate()) {
        case LAST -> latest(inWindow).orElseThrow().value();
        case MEAN -> inWindow.stream().mapToDouble(FhirRecords.Measurement::value).average().orElseThrow();
        case MIN -> inWindow.stream().mapToDouble(FhirRecords.Measurement::value).min().orElseThrow();
        case MAX -> inWindow.stream().mapToDouble(FhirRecords.Measurement::value).max().orElseThrow();
      };
    }
    if (feature instanceof FhirMapping.Diagnosis) {
      return facts.diagnoses.getOrDefault(f, List.of()).stream()
          .anyMatch(date -> date.isEmpty() || !date.get().isAfter(index)) ? 1f : 0f;
    }
    FhirMapping.Demographic demographic = (FhirMapping.Demographic) feature;
    if (demographic.field() == FhirMapping.PatientField.AGE) {
      LocalDate birth = person.birthDate().orElseThrow(() -> new DataLoadException(where + ": has no birthDate for"
          + " feature '" + demographic.id() + "'"));
      return Period.between(birth, index).getYears();
    }
    String gender = person.gender().orElseThrow(() -> new DataLoadException(where + ": has no gender for feature '"
        + demographic.id() + "'"));
    return gender.equalsIgnoreCase(demographic.field().name()) ? 1f : 0f;
  }

  /** The latest by date; of several on that day, the last read. */
  private static Optional<FhirRecords.Measurement> latest(List<FhirRecords.Measurement> values) {
    FhirRecords.Measurement latest = null;
    for (FhirRecords.Measurement value : values) {
      if (latest == null || !value.date().isBefore(latest.date())) {
        latest = value;
      }
    }
    return Optional.ofNullable(latest);
  }

  /** One line for the log: patients kept, and the codes the mapping does not name, most frequent first. */
  static String summary(String dataset, FhirRecords.Read read, int kept) {
    StringBuilder out = new StringBuilder("dataset '" + dataset + "': " + kept + " of " + read.patients().size()
        + " patients in the table");
    for (Map.Entry<String, Map<String, Integer>> type : read.unknownCodes().entrySet()) {
      Map<String, Integer> codes = type.getValue();
      out.append("; ").append(read.unknownCount(type.getKey())).append(' ').append(type.getKey())
          .append("(s) with codes the mapping does not name (").append(codes.size()).append(" codes, most frequent: ")
          .append(codes.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()
              .thenComparing(Map.Entry.comparingByKey())).limit(5).map(e -> e.getKey() + " x" + e.getValue())
              .collect(Collectors.joining(", "))).append(')');
    }
    if (read.unmatched() > 0) {
      out.append("; ").append(read.unmatched()).append(" patient reference(s) in Observations and Conditions name no"
          + " Patient in the folder");
    }
    if (read.duplicates() > 0) {
      out.append("; ").append(read.duplicates()).append(" Observation(s) and Condition(s) appeared again with the same"
          + " id and were read once");
    }
    return out.toString();
  }
}
