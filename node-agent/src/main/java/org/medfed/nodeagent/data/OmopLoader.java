package org.medfed.nodeagent.data;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.Period;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a cohort from an OMOP CDM v5.4 database over JDBC ({@code format: omop} and {@code
 * omop_survival}) into the table a CSV loader builds: one row per person, in person_id order, the
 * mapping's features as named columns, the label as a class index or {@code [time, event]}. From
 * there it is a table like any other ({@link RecordTables}), as {@link FhirLoader}'s are.
 *
 * <p>It connects read-only and refuses a role that can write ({@link OmopConnection}). A person
 * lacking a value (no measurement in the window for a {@code last} feature, no row in {@code
 * person}) or a label is a bad row, as an empty CSV cell is.
 */
final class OmopLoader {
  private static final Logger log = LoggerFactory.getLogger(OmopLoader.class);

  private OmopLoader() {}

  /** Each kept person's id, in row order, with the table; and one summary line for the log. */
  record Table<L>(List<String> ids, CsvTable.Rows<L> rows, String summary) implements RecordTables.Table<L> {}

  static LocalDataset load(DatasetDeclaration declaration, BadRows badRows) {
    return RecordTables.load(declaration, () -> survivalTable(declaration, badRows),
        () -> classTable(declaration, badRows));
  }

  /** The table with class indexes: the cohort's label, 0 (the first class) or 1. */
  static Table<Integer> classTable(DatasetDeclaration declaration, BadRows badRows) {
    return table(declaration, badRows, outcome -> outcome.get(0).intValue());
  }

  /** The table with {@code [time in days, event]} per person. */
  static Table<float[]> survivalTable(DatasetDeclaration declaration, BadRows badRows) {
    return table(declaration, badRows, outcome -> new float[] {outcome.get(0), outcome.get(1)});
  }

  private static <L> Table<L> table(DatasetDeclaration declaration, BadRows badRows, Function<List<Float>, L> label) {
    OmopMapping mapping = declaration.options().omop().orElseThrow(() -> new DataLoadException("dataset '"
        + declaration.name() + "': format omop needs 'database' and a 'mapping' naming its cohort and features"));
    OmopRecords.Read read;
    Connection db = OmopConnection.open(declaration.name(), mapping.database(), tablesRead(declaration, mapping));
    try {
      read = OmopRecords.read(declaration, mapping, db, badRows);
    } catch (SQLException e) {
      throw new DataLoadException("dataset '" + declaration.name() + "': reading the OMOP database at "
          + mapping.database().describe() + " failed: " + e.getMessage(), e);
    } finally {
      OmopConnection.close(db);
    }
    List<String> ids = new ArrayList<>();
    List<float[]> values = new ArrayList<>();
    List<L> labels = new ArrayList<>();
    for (OmopRecords.Member member : read.members()) {
      String where = "dataset '" + declaration.name() + "': person " + member.personId() + " (index date "
          + member.index() + ")";
      try {
        OmopRecords.Person person = read.persons().get(member.personId());
        if (person == null) {
          throw new DataLoadException(where + ": is in the cohort but not in " + mapping.database().table("person"));
        }
        Map<Integer, List<OmopRecords.Fact>> facts = read.facts().getOrDefault(member.personId(), Map.of());
        float[] row = new float[mapping.features().size()];
        for (int f = 0; f < row.length; f++) {
          row[f] = value(mapping, f, person, facts.getOrDefault(f, List.of()), member.index(), where);
        }
        ids.add(Long.toString(member.personId()));
        values.add(row);
        labels.add(label.apply(member.outcome()));
      } catch (DataLoadException problem) {
        badRows.report(problem);
      }
    }
    return new Table<>(ids, new CsvTable.Rows<>(mapping.featureIds(), values, labels),
        summary(declaration.name(), read, ids.size()));
  }

  /** Every table the load reads, schema-qualified, for the privilege check. */
  static Set<String> tablesRead(DatasetDeclaration declaration, OmopMapping mapping) {
    Set<String> tables = new LinkedHashSet<>();
    tables.add(mapping.database().table("person"));
    for (OmopMapping.Domain domain : mapping.domains()) {
      tables.add(mapping.database().table(domain.table));
    }
    if (mapping.cohort() instanceof OmopMapping.CohortTable) {
      tables.add(OmopRecords.cohortTable(mapping));
      if (declaration.format().survival()) {
        tables.add(mapping.database().table("observation_period"));
      }
    }
    return tables;
  }

  private static float value(OmopMapping mapping, int f, OmopRecords.Person person, List<OmopRecords.Fact> facts,
      LocalDate index, String where) {
    OmopMapping.Feature feature = mapping.features().get(f);
    if (feature instanceof OmopMapping.PersonFeature demographic) {
      if (demographic.field() == OmopMapping.PersonField.AGE) {
        return age(person, index, where);
      }
      return person.genderConcept() == demographic.field().genderConcept ? 1f : 0f;
    }
    OmopMapping.Covariate covariate = (OmopMapping.Covariate) feature;
    LocalDate from = index.minusDays(mapping.windowOf(covariate));
    List<OmopRecords.Fact> inWindow = facts.stream().filter(fact -> !fact.date().isBefore(from)).toList();
    return aggregate(covariate, inWindow, from, index, where);
  }

  private static float aggregate(OmopMapping.Covariate covariate, List<OmopRecords.Fact> facts, LocalDate from,
      LocalDate index, String where) {
    if (covariate.aggregate() == OmopMapping.Aggregate.PRESENT) {
      return facts.isEmpty() ? 0f : 1f;
    }
    if (covariate.aggregate() == OmopMapping.Aggregate.COUNT) {
      return facts.size();
    }
    double[] numbers = facts.stream().filter(fact -> fact.value().isPresent())
        .mapToDouble(fact -> fact.value().getAsDouble()).toArray();
    if (numbers.length == 0) {
      throw new DataLoadException(where + ": no " + covariate.domain().table + " with value_as_number for concept(s) "
          + covariate.conceptIds() + " of feature '" + covariate.id() + "' dated " + from + " to " + index + "; a"
          + " missing value is a bad row, as an empty CSV cell is (declare bad_rows: skip to leave such people out)");
    }
    double result = switch (covariate.aggregate()) {
      case LAST -> numbers[numbers.length - 1];
      case MEAN -> Arrays.stream(numbers).average().orElseThrow();
      case MIN -> Arrays.stream(numbers).min().orElseThrow();
      case MAX -> Arrays.stream(numbers).max().orElseThrow();
      case PRESENT, COUNT -> throw new IllegalStateException("counted above");
    };
    return (float) result;
  }

  /**
   * Whole years at the index date. With month and day of birth, as FHIR's birthDate gives it; with
   * the year alone (the CDM requires only that), the difference of years, as OHDSI's
   * FeatureExtraction counts it.
   */
  private static float age(OmopRecords.Person person, LocalDate index, String where) {
    if (person.monthOfBirth().isEmpty()) {
      return index.getYear() - person.yearOfBirth();
    }
    try {
      LocalDate birth = LocalDate.of(person.yearOfBirth(), person.monthOfBirth().get(),
          person.dayOfBirth().orElse(1));
      return Period.between(birth, index).getYears();
    } catch (DateTimeException e) {
      throw new DataLoadException(where + ": its birth date in person (year " + person.yearOfBirth() + ", month "
          + person.monthOfBirth().get() + ", day " + person.dayOfBirth().orElse(1) + ") is not a date: "
          + e.getMessage());
    }
  }

  /** One line for the log: people kept, records of concepts the mapping does not name, mapped concepts never met. */
  static String summary(String dataset, OmopRecords.Read read, int kept) {
    StringBuilder out = new StringBuilder("dataset '" + dataset + "': " + kept + " of " + read.members().size()
        + " cohort people in the table");
    for (Map.Entry<String, Map<Long, Long>> table : read.unknown().entrySet()) {
      Map<Long, Long> counts = table.getValue();
      out.append("; ").append(counts.values().stream().mapToLong(Long::longValue).sum()).append(' ')
          .append(table.getKey()).append(" record(s) in the windows with concept ids the mapping does not name (")
          .append(counts.size()).append(" concepts, most frequent: ")
          .append(String.join(", ", OmopRecords.mostFrequent(counts, 5))).append(')');
    }
    if (!read.unseen().isEmpty()) {
      out.append("; mapped concept ids with no record in any window (check the id and the vocabulary): ")
          .append(String.join(", ", read.unseen()));
    }
    if (read.repeats() > 0) {
      out.append("; ").append(read.repeats()).append(" later cohort entr(ies) of people already in the cohort were"
          + " not used (each person is seen at their earliest index date)");
    }
    return out.toString();
  }
}
