package org.medfed.nodeagent.data;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.Type;

/**
 * Reads a folder of FHIR R4 records with HAPI FHIR: JSON files holding a Bundle (its entries'
 * resources) or one resource, and NDJSON files with one resource per line, as a bulk export writes
 * them. Only Patient, Observation and Condition are parsed; other resource types are passed over.
 * What the mapping reads is kept per patient; codes it does not name are counted, not kept.
 *
 * <p>A resource that cannot be parsed, or that a mapped feature needs but lacks a subject, date or
 * value, is a bad record naming its file and line (NDJSON) or entry index (Bundle): it fails the
 * load or is skipped, as the declaration says. Observations entered in error or cancelled, and
 * Conditions refuted or entered in error, are ignored.
 */
final class FhirRecords {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> READ = List.of("Patient", "Observation", "Condition");

  /** A numeric value on a day, and the record it came from. */
  record Measurement(LocalDate date, double value, String where) {}

  /** A Patient resource: its id and what the demographic features read. */
  record Person(String id, Optional<LocalDate> birthDate, Optional<String> gender, String where) {}

  /** What the records say about one patient, gathered under every reference that names them. */
  static final class Facts {
    /** Lab feature index to its values, and diagnosis feature index to its Conditions' dates (empty: undated). */
    final Map<Integer, List<Measurement>> labs = new HashMap<>();
    final Map<Integer, List<Optional<LocalDate>>> diagnoses = new HashMap<>();
    final List<Measurement> labelValues = new ArrayList<>();
    final List<Optional<LocalDate>> labelDiagnoses = new ArrayList<>();
    /** The latest date of any Observation, whatever its code: a control's index date under {@code index_date: label}. */
    Optional<LocalDate> lastObservation = Optional.empty();

    void seen(LocalDate date) {
      if (lastObservation.isEmpty() || date.isAfter(lastObservation.get())) {
        lastObservation = Optional.of(date);
      }
    }

    void addAll(Facts other) {
      other.labs.forEach((k, v) -> labs.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
      other.diagnoses.forEach((k, v) -> diagnoses.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
      labelValues.addAll(other.labelValues);
      labelDiagnoses.addAll(other.labelDiagnoses);
      other.lastObservation.ifPresent(this::seen);
    }
  }

  /**
   * The patients in id order with their facts; per resource type, how many resources carried
   * codes the mapping does not name, by {@code system|code}; how many patient references in
   * Observations and Conditions name no Patient the folder holds; and how many Observations and
   * Conditions were read once though they appear again (same type and id, e.g. in a Bundle and an
   * export).
   */
  record Read(List<Person> patients, Map<String, Facts> facts, Map<String, Map<String, Integer>> unknownCodes,
      int unmatched, int duplicates) {
    int unknownCount(String resourceType) {
      return unknownCodes.getOrDefault(resourceType, Map.of()).values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  private final FhirMapping mapping;
  private final BadRows badRows;
  private final IParser parser;
  private final Map<String, Person> persons = new TreeMap<>();
  private final Map<String, String> patientByReference = new HashMap<>();
  private final Map<String, Facts> factsByReference = new HashMap<>();
  private final Map<String, Map<String, Integer>> unknown = new TreeMap<>();
  private final Set<String> resourceIds = new HashSet<>();
  private int duplicates;

  private FhirRecords(FhirMapping mapping, BadRows badRows) {
    this.mapping = mapping;
    this.badRows = badRows;
    this.parser = FhirContext.forR4Cached().newJsonParser();
    // Invalid values (a date that is no date) are errors; unknown elements and extensions, common in
    // real exports, are not, and are not logged one line per resource.
    parser.setParserErrorHandler(new LenientErrorHandler(false).setErrorOnInvalidValue(true));
  }

  static Read read(Path folder, FhirMapping mapping, BadRows badRows) {
    FhirRecords records = new FhirRecords(mapping, badRows);
    for (Path file : files(folder)) {
      if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".ndjson")) {
        records.readNdjson(file);
      } else {
        records.readJson(file);
      }
    }
    return records.resolve();
  }

  /** The {@code .json} and {@code .ndjson} files under the folder, in path order; hidden files are passed over. */
  private static List<Path> files(Path folder) {
    if (!Files.isDirectory(folder)) {
      throw new DataLoadException(folder + ": not a folder; format fhir reads a folder of .json Bundles and .ndjson"
          + " files");
    }
    try (Stream<Path> walk = Files.walk(folder)) {
      List<Path> files = walk.filter(Files::isRegularFile).filter(f -> {
        String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
        return !name.startsWith(".") && (name.endsWith(".json") || name.endsWith(".ndjson"));
      }).sorted().toList();
      if (files.isEmpty()) {
        throw new DataLoadException(folder + ": holds no .json or .ndjson files");
      }
      return files;
    } catch (IOException e) {
      throw new DataLoadException(folder + ": cannot be listed (" + e.getMessage() + ")", e);
    }
  }

  private void readNdjson(Path file) {
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int number = 0;
      while ((line = reader.readLine()) != null) {
        number++;
        if (!line.isBlank()) {
          String where = file + ":" + number;
          try {
            resource(JSON.readTree(line), Optional.empty(), where);
          } catch (JsonProcessingException e) {
            badRows.report(new DataLoadException(where + ": not valid JSON (" + e.getOriginalMessage()
                + "); each line of an NDJSON file must hold one whole resource"));
          }
        }
      }
    } catch (IOException e) {
      throw new DataLoadException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }

  private void readJson(Path file) {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      badRows.report(new DataLoadException(file + ":" + e.getLocation().getLineNr() + ": not valid JSON ("
          + e.getOriginalMessage() + ")"));
      return;
    } catch (IOException e) {
      throw new DataLoadException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
    if (!"Bundle".equals(root.path("resourceType").asText())) {
      resource(root, Optional.empty(), file.toString());
      return;
    }
    JsonNode entries = root.path("entry");
    for (int i = 0; i < entries.size(); i++) {
      JsonNode entry = entries.get(i);
      if (entry.has("resource")) {
        resource(entry.get("resource"), Optional.ofNullable(entry.path("fullUrl").textValue()),
            file + ": entry[" + i + "]");
      }
    }
  }

  /** Parses one resource of a type the mapping reads and keeps what it needs; reports a bad one. */
  private void resource(JsonNode json, Optional<String> fullUrl, String where) {
    String type = json.path("resourceType").asText("");
    if (!READ.contains(type)) {
      if (type.isEmpty()) {
        badRows.report(new DataLoadException(where + ": has no resourceType; is it a FHIR resource?"));
      }
      return;
    }
    try {
      Resource resource = (Resource) parser.parseResource(json.toString());
      // The same Observation twice would count twice in a mean; a Patient twice is an error below.
      if (!(resource instanceof Patient) && resource.getIdElement().hasIdPart()
          && !resourceIds.add(type + "/" + resource.getIdElement().getIdPart())) {
        duplicates++;
        return;
      }
      if (resource instanceof Patient patient) {
        patient(patient, fullUrl, where);
      } else if (resource instanceof Observation observation) {
        observation(observation, where);
      } else if (resource instanceof Condition condition) {
        condition(condition);
      }
    } catch (DataFormatException | IllegalArgumentException e) {
      badRows.report(new DataLoadException(where + ": " + type + " is malformed: " + e.getMessage()));
    }
  }

  private void patient(Patient patient, Optional<String> fullUrl, String where) {
    List<String> aliases = new ArrayList<>();
    if (patient.getIdElement().hasIdPart()) {
      aliases.add("Patient/" + patient.getIdElement().getIdPart());
    }
    fullUrl.map(FhirRecords::key).ifPresent(aliases::add);
    if (aliases.isEmpty()) {
      throw new DataFormatException("has neither an id nor a fullUrl, so no record can name it");
    }
    String id = patient.getIdElement().hasIdPart() ? patient.getIdElement().getIdPart() : fullUrl.orElseThrow();
    Person person = new Person(id, patient.getBirthDateElement().hasValue()
        ? Optional.of(day(patient.getBirthDateElement().getValueAsString())) : Optional.empty(),
        Optional.ofNullable(patient.getGender()).map(g -> g.toCode()), where);
    Person before = persons.putIfAbsent(id, person);
    if (before != null) {
      throw new DataFormatException("patient '" + id + "' appears twice, first at " + before.where());
    }
    aliases.forEach(alias -> patientByReference.put(alias, id));
  }

  private void observation(Observation observation, String where) {
    if (observation.getStatus() == Observation.ObservationStatus.ENTEREDINERROR
        || observation.getStatus() == Observation.ObservationStatus.CANCELLED) {
      return;
    }
    // A panel (blood pressure) carries its values in components, each with its own code.
    List<CodeableConcept> codes = new ArrayList<>();
    List<Type> values = new ArrayList<>();
    codes.add(observation.getCode());
    values.add(observation.getValue());
    for (Observation.ObservationComponentComponent component : observation.getComponent()) {
      codes.add(component.getCode());
      values.add(component.getValue());
    }
    Optional<LocalDate> date = observationDate(observation);
    Facts facts = null;
    boolean mapped = false;
    for (int c = 0; c < codes.size(); c++) {
      List<Integer> labs = new ArrayList<>();
      for (int f = 0; f < mapping.features().size(); f++) {
        if (mapping.features().get(f) instanceof FhirMapping.Lab lab && matches(codes.get(c), lab.codes())) {
          labs.add(f);
        }
      }
      boolean label = mapping.label() instanceof FhirMapping.ObservationLabel
          && matches(codes.get(c), mapping.label().codes());
      if (labs.isEmpty() && !label) {
        continue;
      }
      mapped = true;
      if (facts == null) {
        facts = factsOf(observation.getSubject(), "Observation");
      }
      Measurement value = new Measurement(date.orElseThrow(() -> new DataFormatException(
          "has no effective date (effectiveDateTime, effectivePeriod.start, effectiveInstant or issued)")),
          number(values.get(c), codes.get(c)), where);
      for (int f : labs) {
        facts.labs.computeIfAbsent(f, k -> new ArrayList<>()).add(value);
      }
      if (label) {
        facts.labelValues.add(value);
      }
    }
    if (!mapped) {
      count("Observation", observation.getCode());
    }
    if (date.isPresent() && observation.getSubject().hasReference()) {
      (facts == null ? factsOf(observation.getSubject(), "Observation") : facts).seen(date.get());
    }
  }

  private void condition(Condition condition) {
    for (Coding status : condition.getVerificationStatus().getCoding()) {
      if ("refuted".equals(status.getCode()) || "entered-in-error".equals(status.getCode())) {
        return;
      }
    }
    List<Integer> diagnoses = new ArrayList<>();
    for (int f = 0; f < mapping.features().size(); f++) {
      if (mapping.features().get(f) instanceof FhirMapping.Diagnosis diagnosis
          && matches(condition.getCode(), diagnosis.codes())) {
        diagnoses.add(f);
      }
    }
    boolean label = !(mapping.label() instanceof FhirMapping.ObservationLabel)
        && matches(condition.getCode(), mapping.label().codes());
    if (diagnoses.isEmpty() && !label) {
      count("Condition", condition.getCode());
      return;
    }
    Facts facts = factsOf(condition.getSubject(), "Condition");
    Optional<LocalDate> date = conditionDate(condition);
    diagnoses.forEach(f -> facts.diagnoses.computeIfAbsent(f, k -> new ArrayList<>()).add(date));
    if (label) {
      facts.labelDiagnoses.add(date);
    }
  }

  private Facts factsOf(Reference subject, String type) {
    if (!subject.hasReference()) {
      throw new DataFormatException(type + ".subject names no patient (subject.reference)");
    }
    return factsByReference.computeIfAbsent(key(subject.getReference()), k -> new Facts());
  }

  private void count(String type, CodeableConcept code) {
    String name = code.getCoding().isEmpty() ? "(no coding)"
        : code.getCodingFirstRep().getSystem() + "|" + code.getCodingFirstRep().getCode();
    unknown.computeIfAbsent(type, k -> new TreeMap<>()).merge(name, 1, Integer::sum);
  }

  private Read resolve() {
    Map<String, Facts> facts = new LinkedHashMap<>();
    persons.keySet().forEach(id -> facts.put(id, new Facts()));
    int unmatched = 0;
    for (Map.Entry<String, Facts> entry : factsByReference.entrySet()) {
      String id = patientByReference.get(entry.getKey());
      if (id == null) {
        unmatched++;
      } else {
        facts.get(id).addAll(entry.getValue());
      }
    }
    return new Read(List.copyOf(persons.values()), facts, unknown, unmatched, duplicates);
  }

  private static boolean matches(CodeableConcept concept, List<FhirMapping.Code> codes) {
    for (Coding coding : concept.getCoding()) {
      if (coding.hasSystem() && coding.hasCode()
          && codes.contains(new FhirMapping.Code(coding.getSystem(), coding.getCode()))) {
        return true;
      }
    }
    return false;
  }

  private static double number(Type value, CodeableConcept code) {
    if (value instanceof Quantity quantity && quantity.hasValue()) {
      return quantity.getValue().doubleValue();
    }
    throw new DataFormatException("has no valueQuantity.value for " + code.getCodingFirstRep().getSystem() + "|"
        + code.getCodingFirstRep().getCode() + "; a mapped Observation needs a number");
  }

  private static Optional<LocalDate> observationDate(Observation observation) {
    Type effective = observation.getEffective();
    if (effective instanceof BaseDateTimeType dateTime && dateTime.hasValue()) {
      return Optional.of(day(dateTime.getValueAsString()));
    }
    if (effective instanceof Period period && period.getStartElement().hasValue()) {
      return Optional.of(day(period.getStartElement().getValueAsString()));
    }
    return observation.getIssuedElement().hasValue() ? Optional.of(day(observation.getIssuedElement()
        .getValueAsString())) : Optional.empty();
  }

  /** The onset if dated, else the date it was recorded; empty when neither is given. */
  private static Optional<LocalDate> conditionDate(Condition condition) {
    Type onset = condition.getOnset();
    if (onset instanceof BaseDateTimeType dateTime && dateTime.hasValue()) {
      return Optional.of(day(dateTime.getValueAsString()));
    }
    if (onset instanceof Period period && period.getStartElement().hasValue()) {
      return Optional.of(day(period.getStartElement().getValueAsString()));
    }
    return condition.getRecordedDateElement().hasValue()
        ? Optional.of(day(condition.getRecordedDateElement().getValueAsString())) : Optional.empty();
  }

  /**
   * The calendar day as written in the record (its own time zone, not converted); a year or a month
   * alone stands for its first day.
   */
  static LocalDate day(String text) {
    try {
      return switch (text.length()) {
        case 4 -> LocalDate.parse(text + "-01-01");
        case 7 -> LocalDate.parse(text + "-01");
        default -> LocalDate.parse(text.substring(0, 10));
      };
    } catch (DateTimeParseException | IndexOutOfBoundsException e) {
      throw new DataFormatException("'" + text + "' is not a date");
    }
  }

  /** A reference as the key a Patient is known by: {@code Patient/ID} (any base URL or version dropped), or a urn. */
  static String key(String reference) {
    if (reference.startsWith("urn:")) {
      return reference;
    }
    IdType id = new IdType(reference);
    return id.hasResourceType() && id.hasIdPart() ? id.getResourceType() + "/" + id.getIdPart() : reference;
  }
}
