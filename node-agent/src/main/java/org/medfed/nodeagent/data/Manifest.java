package org.medfed.nodeagent.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Predicate;

/**
 * A CSV manifest that lists one sample per row ({@code <path column>,<outcome columns>[,split]},
 * paths relative to the manifest's folder), as PACS and lab exports often come. Rows without a
 * split are dealt between train and test by the declaration's seeded {@code test_fraction}. A row
 * naming a missing file, an outcome the caller rejects or a bad split is reported to
 * {@link BadRows} with the manifest's line, and left out.
 */
final class Manifest {
  /** One listed sample with its outcome; {@code where} is the manifest file and line, for messages. */
  record Entry<T>(Path file, T outcome, String where) {}

  /** The rows dealt to the two splits: given splits after the seeded deal, each in manifest order. */
  record Splits<T>(List<Entry<T>> train, List<Entry<T>> test) {
    Splits {
      train = List.copyOf(train);
      test = List.copyOf(test);
    }
  }

  /** Reads a row's outcome from its cells, in the order of the columns asked for. */
  @FunctionalInterface
  interface Outcome<T> {
    /** @throws DataLoadException naming {@code where} and what to fix */
    T read(List<String> cells, String where);
  }

  private Manifest() {}

  /**
   * @param pathColumn the column naming each sample's file or folder ({@code path}, {@code study})
   * @param accepted whether an existing listed path has the expected form; {@code what} names that form
   * @param outcomeColumns the columns {@code outcome} reads ({@code label}, or {@code time} and {@code event})
   */
  static <T> Splits<T> read(DatasetDeclaration declaration, String pathColumn, Predicate<Path> accepted, String what,
      List<String> outcomeColumns, Outcome<T> outcome, BadRows badRows) {
    Path manifest = declaration.location();
    if (!Files.isRegularFile(manifest)) {
      throw new DataLoadException("dataset '" + declaration.name() + "': manifest " + manifest + " does not exist");
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(manifest, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new DataLoadException(manifest + ": cannot be read (" + e.getMessage() + ")", e);
    }
    List<String> header = lines.isEmpty() ? List.of() : List.of(lines.get(0).split(",", -1)).stream()
        .map(String::trim).toList();
    int path = header.indexOf(pathColumn);
    int[] outcomes = outcomeColumns.stream().mapToInt(header::indexOf).toArray();
    int split = header.indexOf("split");
    if (path < 0 || Arrays.stream(outcomes).anyMatch(c -> c < 0)) {
      List<String> required = new ArrayList<>(List.of(pathColumn));
      required.addAll(outcomeColumns);
      List<String> quoted = required.stream().map(c -> "'" + c + "'").toList();
      throw new DataLoadException(manifest + ":1: header must name the columns " + String.join(", ",
          quoted.subList(0, quoted.size() - 1)) + " and " + quoted.get(quoted.size() - 1) + " (and optionally"
          + " 'split'), got " + header);
    }
    List<Entry<T>> train = new ArrayList<>();
    List<Entry<T>> test = new ArrayList<>();
    List<Entry<T>> unsplit = new ArrayList<>();
    Path base = manifest.toAbsolutePath().getParent();
    for (int r = 1; r < lines.size(); r++) {
      if (lines.get(r).isBlank()) {
        continue;
      }
      String where = manifest + ":" + (r + 1);
      try {
        String[] cells = lines.get(r).split(",", -1);
        if (cells.length != header.size()) {
          throw new DataLoadException(where + ": has " + cells.length + " columns but the header has " + header.size());
        }
        String chosen = split < 0 ? "" : cells[split].trim().toLowerCase(Locale.ROOT);
        if (!chosen.isEmpty() && !chosen.equals("train") && !chosen.equals("test")) {
          throw new DataLoadException(where + ": column 'split' holds '" + cells[split].trim()
              + "'; use train, test or leave it empty for a seeded split");
        }
        Path file = base.resolve(cells[path].trim()).normalize();
        if (!Files.exists(file)) {
          throw new DataLoadException(where + ": " + file + " does not exist");
        }
        if (!accepted.test(file)) {
          throw new DataLoadException(where + ": " + file + " is not " + what);
        }
        T value = outcome.read(Arrays.stream(outcomes).mapToObj(c -> cells[c].trim()).toList(), where);
        (chosen.isEmpty() ? unsplit : chosen.equals("test") ? test : train).add(new Entry<>(file, value, where));
      } catch (DataLoadException problem) {
        badRows.report(problem);
      }
    }
    Collections.shuffle(unsplit, new Random(declaration.options().splitSeed()));
    int held = (int) Math.round(unsplit.size() * declaration.options().testFraction());
    List<Entry<T>> dealtTrain = new ArrayList<>(unsplit.subList(held, unsplit.size()));
    dealtTrain.addAll(train);
    List<Entry<T>> dealtTest = new ArrayList<>(unsplit.subList(0, held));
    dealtTest.addAll(test);
    return new Splits<>(dealtTrain, dealtTest);
  }

  /** The outcome of a classification manifest: its {@code label} column, as an index into the declared classes. */
  static Outcome<Integer> classLabel(List<String> classes) {
    return (cells, where) -> Labels.indexOf(classes, cells.get(0), where);
  }
}
