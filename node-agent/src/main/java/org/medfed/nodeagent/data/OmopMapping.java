package org.medfed.nodeagent.data;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How an OMOP CDM v5.4 database ({@code format: omop}, {@code omop_survival}) becomes a feature
 * table: one row per person of a cohort, one column per declared feature, a class or {@code [time,
 * event]} from the cohort.
 *
 * <p>Each person's <b>index date</b> anchors the row: the cohort's {@code cohort_start_date}, or
 * the cohort query's {@code index_date}. Covariates read the records of their domain table dated
 * from {@code windowDays} before the index date up to and including it, matched by standard
 * concept id, so two hospitals whose databases map their codes to the same OMOP vocabulary get
 * the same columns in the declared order. A covariate may declare its own window, e.g. years for
 * a history of a condition.
 *
 * @param windowDays how far before the index date records count, in days
 */
public record OmopMapping(Database database, Cohort cohort, List<Feature> features, int windowDays) {
  /**
   * A SQL identifier, optionally schema-qualified: the only configured text put into SQL, which is
   * why it is held to lower-case letters, digits and underscores.
   */
  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  /** Where the CDM lives; the password is read when loading, from an environment variable or a file, never the yaml. */
  public record Database(String url, String user, Password password, String schema) {
    public Database {
      Objects.requireNonNull(password, "password");
      if (url == null || !url.startsWith("jdbc:postgresql://")) {
        throw new IllegalArgumentException("database.url must be a PostgreSQL JDBC URL such as"
            + " jdbc:postgresql://omop-db:5432/cdm, got '" + url + "'");
      }
      if (url.contains("password=")) {
        throw new IllegalArgumentException("database.url must not carry the password; give password_env or"
            + " password_file instead");
      }
      if (user == null || user.isBlank()) {
        throw new IllegalArgumentException("database.user must name the read-only role the agent connects as");
      }
      identifier("database.schema", schema, false);
    }

    /** Host, port and database, as messages name them: the URL without its parameters. */
    public String describe() {
      String place = url.substring("jdbc:postgresql://".length());
      int query = place.indexOf('?');
      return query < 0 ? place : place.substring(0, query);
    }

    /** {@code schema.table}, both validated. */
    String table(String name) {
      return schema + "." + name;
    }
  }

  /** Where the database password comes from. */
  public sealed interface Password {}

  /** The value of an environment variable of the agent's process. */
  public record PasswordFromEnv(String variable) implements Password {
    public PasswordFromEnv {
      if (variable == null || !variable.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        throw new IllegalArgumentException("database.password_env must name an environment variable, got '"
            + variable + "'");
      }
    }
  }

  /** The first line of a file readable only by the agent's user. */
  public record PasswordFromFile(Path file) implements Password {
    public PasswordFromFile {
      Objects.requireNonNull(file, "file");
    }
  }

  /** Who is in the table, from when each is seen, and their label. */
  public sealed interface Cohort {}

  /**
   * The OHDSI cohort table: the target cohort's people at their earliest {@code cohort_start_date}.
   * A class label is 1 when the person enters the outcome cohort after the index date, within
   * {@code riskWindowDays}; a survival label is the days to that entry (event 1), else to the end of
   * the observation period holding the index date (censored).
   *
   * @param table {@code cohort} or {@code results_schema.cohort}
   * @param riskWindowDays for class labels, how many days after the index date the outcome counts
   */
  public record CohortTable(String table, long target, long outcome, OptionalInt riskWindowDays) implements Cohort {
    public CohortTable {
      identifier("cohort.table", table, true);
      Objects.requireNonNull(riskWindowDays, "riskWindowDays");
      if (target == outcome) {
        throw new IllegalArgumentException("cohort.target and cohort.outcome are both " + target
            + "; the outcome must be another cohort definition");
      }
      if (riskWindowDays.isPresent() && riskWindowDays.getAsInt() < 1) {
        throw new IllegalArgumentException("cohort.risk_window must be at least 1d, got " + riskWindowDays.getAsInt()
            + "d");
      }
    }
  }

  /**
   * A query the hospital writes, returning {@code person_id, index_date, label} (label 0 or 1, the
   * class index) or, for {@code omop_survival}, {@code person_id, index_date, time, event}. It runs
   * as given, in the read-only transaction, with the CDM schema first on the search path.
   */
  public record CohortQuery(String sql) implements Cohort {
    public CohortQuery {
      if (sql == null || sql.isBlank()) {
        throw new IllegalArgumentException("cohort.query must be a SELECT returning person_id, index_date, label");
      }
    }
  }

  /** How the records of one feature within the window become one number. */
  public enum Aggregate {
    /** 1 when there is at least one record, else 0. */
    PRESENT,
    /** The number of records. */
    COUNT,
    /** {@code value_as_number} of the latest record (of several on that day, the one with the highest id). */
    LAST,
    MEAN,
    MIN,
    MAX;

    boolean readsValues() {
      return this != PRESENT && this != COUNT;
    }
  }

  /** A CDM table a covariate reads, with its standard concept and date columns. */
  public enum Domain {
    CONDITION("condition_occurrence", "condition_concept_id", "condition_start_date", "condition_occurrence_id"),
    DRUG("drug_exposure", "drug_concept_id", "drug_exposure_start_date", "drug_exposure_id"),
    MEASUREMENT("measurement", "measurement_concept_id", "measurement_date", "measurement_id"),
    OBSERVATION("observation", "observation_concept_id", "observation_date", "observation_id");

    final String table;
    final String concept;
    final String date;
    final String id;

    Domain(String table, String concept, String date, String id) {
      this.table = table;
      this.concept = concept;
      this.date = date;
      this.id = id;
    }

    /** Whether the table has {@code value_as_number}. */
    boolean hasValues() {
      return this == MEASUREMENT || this == OBSERVATION;
    }
  }

  /** One column of the table, named by {@code id} as jobs name their features. */
  public sealed interface Feature {
    String id();
  }

  /**
   * The records of one domain with one of the concept ids, in the window, aggregated.
   *
   * @param windowDays this feature's own window, e.g. years for a history of hypertension; empty
   *     uses the mapping's
   */
  public record Covariate(String id, Domain domain, List<Long> conceptIds, Aggregate aggregate,
      OptionalInt windowDays) implements Feature {
    /** A covariate over the mapping's window. */
    public Covariate(String id, Domain domain, List<Long> conceptIds, Aggregate aggregate) {
      this(id, domain, conceptIds, aggregate, OptionalInt.empty());
    }

    public Covariate {
      Objects.requireNonNull(windowDays, "windowDays");
      if (windowDays.isPresent() && windowDays.getAsInt() < 1) {
        throw new IllegalArgumentException("'" + id + "': window must be at least 1d, got " + windowDays.getAsInt()
            + "d");
      }
      if (id == null || id.isBlank()) {
        throw new IllegalArgumentException("every feature needs an id");
      }
      Objects.requireNonNull(domain, "domain");
      Objects.requireNonNull(aggregate, "aggregate");
      if (conceptIds == null || conceptIds.isEmpty()) {
        throw new IllegalArgumentException("'" + id + "' must name at least one concept id");
      }
      conceptIds = List.copyOf(conceptIds);
      for (long concept : conceptIds) {
        if (concept <= 0) {
          throw new IllegalArgumentException("'" + id + "': concept ids are positive, got " + concept
              + " (0 is OMOP's 'no matching concept')");
        }
      }
      if (aggregate.readsValues() && !domain.hasValues()) {
        throw new IllegalArgumentException("'" + id + "': " + domain.table + " has no value_as_number, so aggregate "
            + aggregate.name().toLowerCase(java.util.Locale.ROOT) + " does not apply; use present or count");
      }
    }
  }

  /** From the person table: age in whole years at the index date, or 1 for the named gender concept. */
  public record PersonFeature(String id, PersonField field) implements Feature {
    public PersonFeature {
      if (id == null || id.isBlank()) {
        throw new IllegalArgumentException("every feature needs an id");
      }
      Objects.requireNonNull(field, "field");
    }
  }

  /** What a {@link PersonFeature} reads; the indicators are of OMOP's gender concepts. */
  public enum PersonField {
    AGE(0),
    FEMALE(8532),
    MALE(8507);

    final long genderConcept;

    PersonField(long genderConcept) {
      this.genderConcept = genderConcept;
    }
  }

  public OmopMapping {
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(cohort, "cohort");
    features = List.copyOf(features);
    if (features.isEmpty()) {
      throw new IllegalArgumentException("features must name at least one feature");
    }
    if (windowDays < 1) {
      throw new IllegalArgumentException("window must be at least 1d, got " + windowDays + "d");
    }
    Set<String> ids = new HashSet<>();
    for (Feature feature : features) {
      if (!ids.add(feature.id())) {
        throw new IllegalArgumentException("features: id '" + feature.id() + "' appears twice; ids must be unique");
      }
    }
  }

  public List<String> featureIds() {
    return features.stream().map(Feature::id).toList();
  }

  /** How far before the index date {@code covariate} reads. */
  public int windowOf(Covariate covariate) {
    return covariate.windowDays().orElse(windowDays);
  }

  /** The widest window of the domain's covariates: what is fetched, each feature then keeping its own. */
  int widestWindow(Domain domain) {
    return features.stream().filter(f -> f instanceof Covariate covariate && covariate.domain() == domain)
        .mapToInt(f -> windowOf((Covariate) f)).max().orElse(windowDays);
  }

  /** The domains the covariates read, in declaration order. */
  List<Domain> domains() {
    return features.stream().filter(Covariate.class::isInstance).map(f -> ((Covariate) f).domain()).distinct()
        .toList();
  }

  private static void identifier(String field, String value, boolean qualified) {
    String[] parts = value == null ? new String[] {""} : value.split("\\.", -1);
    boolean ok = parts.length <= (qualified ? 2 : 1);
    for (String part : parts) {
      ok &= IDENTIFIER.matcher(part).matches();
    }
    if (!ok) {
      throw new IllegalArgumentException(field + " is '" + value + "'; it must be " + (qualified ? "a table name or"
          + " schema.table" : "a schema name") + " of lower-case letters, digits and underscores, as OMOP's DDL"
          + " creates them");
    }
  }
}
