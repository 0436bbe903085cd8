package org.medfed.nodeagent.data;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads what an {@link OmopMapping} names from an OMOP database: the cohort, its people, and the
 * records of the mapped concepts within each person's window. Every statement is a constant with
 * bound parameters; the only configured text in SQL is the schema and cohort table names, which
 * {@link OmopMapping} holds to a strict identifier pattern.
 */
final class OmopRecords {
  private OmopRecords() {}

  /** One person of the cohort: their index date and label, {@code [class]} or {@code [time, event]}. */
  record Member(long personId, LocalDate index, List<Float> outcome) {
    Member {
      outcome = List.copyOf(outcome);
    }
  }

  /** A row of {@code person}; month and day of birth are optional in the CDM. */
  record Person(long genderConcept, int yearOfBirth, Optional<Integer> monthOfBirth, Optional<Integer> dayOfBirth) {}

  /** One record of a mapped concept, its {@code value_as_number} if it has one. */
  record Fact(LocalDate date, OptionalDouble value) {}

  /**
   * What was read.
   *
   * @param facts per person, per feature index: the feature's records in the window, oldest first
   * @param unknown per domain table, per concept id the mapping does not name: records in the windows
   * @param unseen concept ids the mapping names that no record in any window has, as {@code table concept}
   * @param repeats later cohort entries of a person already in the cohort, which are not used
   */
  record Read(List<Member> members, Map<Long, Person> persons, Map<Long, Map<Integer, List<Fact>>> facts,
      Map<String, Map<Long, Long>> unknown, List<String> unseen, int repeats) {}

  static Read read(DatasetDeclaration declaration, OmopMapping mapping, Connection db, BadRows badRows)
      throws SQLException {
    OmopMapping.Database database = mapping.database();
    // Transaction-local, bound: a cohort query may name CDM tables without their schema.
    try (PreparedStatement path = db.prepareStatement("SELECT set_config('search_path', ?, true)")) {
      path.setString(1, database.schema());
      path.executeQuery().close();
    }
    int[] repeats = {0};
    List<Member> members = mapping.cohort() instanceof OmopMapping.CohortQuery query
        ? fromQuery(declaration, query, db, badRows, repeats)
        : fromTable(declaration, mapping, (OmopMapping.CohortTable) mapping.cohort(), db, badRows, repeats);
    Map<Long, Person> persons = persons(database, db, members);
    Map<Long, Map<Integer, List<Fact>>> facts = new HashMap<>();
    Map<String, Map<Long, Long>> unknown = new LinkedHashMap<>();
    List<String> unseen = new ArrayList<>();
    for (OmopMapping.Domain domain : mapping.domains()) {
      Set<Long> seen = facts(mapping, domain, db, members, facts);
      Set<Long> named = concepts(mapping, domain);
      for (long concept : named) {
        if (!seen.contains(concept)) {
          unseen.add(domain.table + " " + concept);
        }
      }
      Map<Long, Long> counts = unknown(mapping, domain, db, members, named);
      if (!counts.isEmpty()) {
        unknown.put(domain.table, counts);
      }
    }
    return new Read(members, persons, facts, unknown, unseen, repeats[0]);
  }

  /** The query's rows, checked column by column; a person listed twice is kept at the earliest index date. */
  private static List<Member> fromQuery(DatasetDeclaration declaration, OmopMapping.CohortQuery cohort,
      Connection db, BadRows badRows, int[] repeats) throws SQLException {
    boolean survival = declaration.format().survival();
    List<String> needed = survival ? List.of("person_id", "index_date", "time", "event")
        : List.of("person_id", "index_date", "label");
    String where = "dataset '" + declaration.name() + "': the cohort query";
    Map<Long, Member> members = new TreeMap<>();
    try (PreparedStatement query = db.prepareStatement(cohort.sql()); ResultSet rows = query.executeQuery()) {
      ResultSetMetaData meta = rows.getMetaData();
      List<String> columns = new ArrayList<>();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        columns.add(meta.getColumnLabel(i).toLowerCase(Locale.ROOT));
      }
      for (String column : needed) {
        if (!columns.contains(column)) {
          throw new DataLoadException(where + " returns no column '" + column + "' (it returns " + columns + ");"
              + " it must return " + String.join(", ", needed) + (survival ? " (time in days >= 0, event 1 or 0)"
              : " (label 0 for the first class, 1 for the second)") + "; name them with AS");
        }
      }
      while (rows.next()) {
        Object person = rows.getObject("person_id");
        if (!(person instanceof Number id)) {
          badRows.report(new DataLoadException(where + " returned person_id " + person + "; every row needs a"
              + " whole-number person_id"));
          continue;
        }
        String row = where + ", person " + id.longValue();
        try {
          java.sql.Date index = rows.getDate("index_date");
          if (index == null) {
            throw new DataLoadException(row + ": index_date is NULL; every person needs the date their row is seen"
                + " at");
          }
          List<Float> outcome = survival
              ? List.of(time(row, rows.getObject("time")), flag(row, "event", rows.getObject("event")))
              : List.of(flag(row, "label", rows.getObject("label")));
          add(members, new Member(id.longValue(), index.toLocalDate(), outcome), repeats);
        } catch (DataLoadException problem) {
          badRows.report(problem);
        }
      }
    }
    return List.copyOf(members.values());
  }

  private static float flag(String row, String column, Object value) {
    if (value == null) {
      throw new DataLoadException(row + ": " + column + " is NULL; it must be 0 or 1 (declare bad_rows: skip to"
          + " leave such people out)");
    }
    if (value instanceof Boolean yes) {
      return yes ? 1f : 0f;
    }
    if (value instanceof Number number && (number.doubleValue() == 0 || number.doubleValue() == 1)) {
      return number.floatValue();
    }
    throw new DataLoadException(row + ": " + column + " is " + value + "; it must be 0 or 1");
  }

  private static float time(String row, Object value) {
    if (!(value instanceof Number number) || !(number.doubleValue() >= 0)) {
      throw new DataLoadException(row + ": time is " + value + "; it must be a number of days >= 0");
    }
    return number.floatValue();
  }

  private static void add(Map<Long, Member> members, Member member, int[] repeats) {
    Member before = members.get(member.personId());
    if (before != null) {
      repeats[0]++;
      if (!member.index().isBefore(before.index())) {
        return;
      }
    }
    members.put(member.personId(), member);
  }

  /** The target cohort's people at their earliest entry, labelled from the outcome cohort. */
  private static List<Member> fromTable(DatasetDeclaration declaration, OmopMapping mapping,
      OmopMapping.CohortTable cohort, Connection db, BadRows badRows, int[] repeats) throws SQLException {
    String table = cohortTable(mapping);
    Map<Long, List<LocalDate>> targets = entries(db, table, cohort.target());
    Map<Long, List<LocalDate>> outcomes = entries(db, table, cohort.outcome());
    Map<Long, LocalDate> periodEnds = declaration.format().survival()
        ? periodEnds(mapping.database(), db, targets) : Map.of();
    Map<Long, Member> members = new TreeMap<>();
    for (Map.Entry<Long, List<LocalDate>> target : targets.entrySet()) {
      long person = target.getKey();
      LocalDate index = target.getValue().get(0);
      repeats[0] += target.getValue().size() - 1;
      String row = "dataset '" + declaration.name() + "': person " + person + " (cohort " + cohort.target()
          + " from " + index + ")";
      try {
        List<LocalDate> outcome = outcomes.getOrDefault(person, List.of());
        Optional<LocalDate> prior = outcome.stream().filter(date -> !date.isAfter(index)).findFirst();
        if (prior.isPresent()) {
          throw new DataLoadException(row + ": entered the outcome cohort " + cohort.outcome() + " on " + prior.get()
              + ", on or before the index date, so was not at risk (declare bad_rows: skip to leave such people"
              + " out)");
        }
        Optional<LocalDate> next = outcome.stream().filter(date -> date.isAfter(index)).findFirst();
        List<Float> label;
        if (declaration.format().survival()) {
          LocalDate end = periodEnds.get(person);
          if (end == null) {
            throw new DataLoadException(row + ": has no observation_period holding the index date, so its"
                + " follow-up is unknown (declare bad_rows: skip to leave such people out)");
          }
          // An outcome after the person left observation is not seen in time: censored at the period's end.
          label = next.filter(date -> !date.isAfter(end)).isPresent()
              ? List.of((float) ChronoUnit.DAYS.between(index, next.get()), 1f)
              : List.of((float) ChronoUnit.DAYS.between(index, end), 0f);
        } else {
          int risk = cohort.riskWindowDays().orElseThrow();
          label = List.of(next.filter(date -> !date.isAfter(index.plusDays(risk))).isPresent() ? 1f : 0f);
        }
        members.put(person, new Member(person, index, label));
      } catch (DataLoadException problem) {
        badRows.report(problem);
      }
    }
    return List.copyOf(members.values());
  }

  /** The cohort table, schema-qualified: unqualified, it is in the CDM schema. */
  static String cohortTable(OmopMapping mapping) {
    String table = ((OmopMapping.CohortTable) mapping.cohort()).table();
    return table.contains(".") ? table : mapping.database().table(table);
  }

  private static Map<Long, List<LocalDate>> entries(Connection db, String table, long definition)
      throws SQLException {
    Map<Long, List<LocalDate>> entries = new TreeMap<>();
    try (PreparedStatement query = db.prepareStatement("SELECT subject_id, cohort_start_date FROM " + table
        + " WHERE cohort_definition_id = ? ORDER BY subject_id, cohort_start_date")) {
      query.setLong(1, definition);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          entries.computeIfAbsent(rows.getLong(1), id -> new ArrayList<>()).add(rows.getDate(2).toLocalDate());
        }
      }
    }
    return entries;
  }

  /** Each person's end of the observation period that holds their (earliest) index date. */
  private static Map<Long, LocalDate> periodEnds(OmopMapping.Database database, Connection db,
      Map<Long, List<LocalDate>> targets) throws SQLException {
    Map<Long, LocalDate> ends = new HashMap<>();
    List<Member> members = targets.entrySet().stream()
        .map(e -> new Member(e.getKey(), e.getValue().get(0), List.of())).toList();
    try (PreparedStatement query = db.prepareStatement("SELECT p.person_id, p.observation_period_end_date FROM "
        + database.table("observation_period") + " p JOIN unnest(?::bigint[], ?::text[]::date[]) AS c(person_id,"
        + " index_date) ON p.person_id = c.person_id WHERE c.index_date BETWEEN p.observation_period_start_date"
        + " AND p.observation_period_end_date")) {
      bindCohort(db, query, members);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          ends.put(rows.getLong(1), rows.getDate(2).toLocalDate());
        }
      }
    }
    return ends;
  }

  private static Map<Long, Person> persons(OmopMapping.Database database, Connection db, List<Member> members)
      throws SQLException {
    Map<Long, Person> persons = new HashMap<>();
    try (PreparedStatement query = db.prepareStatement("SELECT person_id, gender_concept_id, year_of_birth,"
        + " month_of_birth, day_of_birth FROM " + database.table("person") + " WHERE person_id = ANY (?)")) {
      query.setArray(1, db.createArrayOf("bigint", members.stream().map(Member::personId).toArray()));
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          persons.put(rows.getLong(1), new Person(rows.getLong(2), rows.getInt(3),
              Optional.ofNullable(rows.getObject(4, Integer.class)),
              Optional.ofNullable(rows.getObject(5, Integer.class))));
        }
      }
    }
    return persons;
  }

  /**
   * The records of the domain's mapped concepts within each member's window, per feature; returns
   * the concept ids met.
   */
  private static Set<Long> facts(OmopMapping mapping, OmopMapping.Domain domain, Connection db,
      List<Member> members, Map<Long, Map<Integer, List<Fact>>> facts) throws SQLException {
    Map<Long, List<Integer>> featuresOf = new HashMap<>();
    for (int f = 0; f < mapping.features().size(); f++) {
      if (mapping.features().get(f) instanceof OmopMapping.Covariate covariate && covariate.domain() == domain) {
        for (long concept : covariate.conceptIds()) {
          featuresOf.computeIfAbsent(concept, c -> new ArrayList<>()).add(f);
        }
      }
    }
    Set<Long> seen = new LinkedHashSet<>();
    try (PreparedStatement query = db.prepareStatement("SELECT t.person_id, t." + domain.concept + ", t."
        + domain.date + ", " + (domain.hasValues() ? "t.value_as_number" : "NULL") + " FROM "
        + mapping.database().table(domain.table) + " t" + window(domain) + " AND t." + domain.concept + " = ANY (?)"
        + " ORDER BY t.person_id, t." + domain.date + ", t." + domain.id)) {
      bindWindow(db, query, members, mapping.widestWindow(domain));
      query.setArray(4, db.createArrayOf("bigint", featuresOf.keySet().toArray()));
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          long concept = rows.getLong(2);
          seen.add(concept);
          double number = rows.getDouble(4);
          OptionalDouble value = rows.wasNull() ? OptionalDouble.empty() : OptionalDouble.of(number);
          Fact fact = new Fact(rows.getDate(3).toLocalDate(), value);
          for (int f : featuresOf.get(concept)) {
            facts.computeIfAbsent(rows.getLong(1), p -> new HashMap<>()).computeIfAbsent(f, k -> new ArrayList<>())
                .add(fact);
          }
        }
      }
    }
    return seen;
  }

  /** Records in the windows whose concept the mapping does not name, counted per concept. */
  private static Map<Long, Long> unknown(OmopMapping mapping, OmopMapping.Domain domain, Connection db,
      List<Member> members, Set<Long> named) throws SQLException {
    Map<Long, Long> counts = new LinkedHashMap<>();
    try (PreparedStatement query = db.prepareStatement("SELECT t." + domain.concept + ", COUNT(*) FROM "
        + mapping.database().table(domain.table) + " t" + window(domain) + " AND NOT (t." + domain.concept
        + " = ANY (?)) GROUP BY 1 ORDER BY 2 DESC, 1")) {
      bindWindow(db, query, members, mapping.windowDays());
      query.setArray(4, db.createArrayOf("bigint", named.toArray()));
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          counts.put(rows.getLong(1), rows.getLong(2));
        }
      }
    }
    return counts;
  }

  private static Set<Long> concepts(OmopMapping mapping, OmopMapping.Domain domain) {
    Set<Long> concepts = new LinkedHashSet<>();
    for (OmopMapping.Feature feature : mapping.features()) {
      if (feature instanceof OmopMapping.Covariate covariate && covariate.domain() == domain) {
        concepts.addAll(covariate.conceptIds());
      }
    }
    return concepts;
  }

  /** Joins the domain table to the cohort's people and keeps records dated in their window; parameters 1 to 3. */
  private static String window(OmopMapping.Domain domain) {
    return " JOIN unnest(?::bigint[], ?::text[]::date[]) AS c(person_id, index_date) ON t.person_id = c.person_id"
        + " WHERE t." + domain.date + " BETWEEN c.index_date - ? AND c.index_date";
  }

  private static void bindWindow(Connection db, PreparedStatement query, List<Member> members, int windowDays)
      throws SQLException {
    bindCohort(db, query, members);
    query.setInt(3, windowDays);
  }

  private static void bindCohort(Connection db, PreparedStatement query, List<Member> members) throws SQLException {
    Array people = db.createArrayOf("bigint", members.stream().map(Member::personId).toArray());
    Array dates = db.createArrayOf("text", members.stream().map(m -> m.index().toString()).toArray());
    query.setArray(1, people);
    query.setArray(2, dates);
  }

  /** The concept ids in {@code counts}, most frequent first, as {@code id xN}. */
  static List<String> mostFrequent(Map<Long, Long> counts, int limit) {
    return counts.entrySet().stream().sorted(Map.Entry.<Long, Long>comparingByValue().reversed()
        .thenComparing(Map.Entry.comparingByKey(Comparator.naturalOrder()))).limit(limit)
        .map(e -> e.getKey() + " x" + e.getValue()).toList();
  }
}
