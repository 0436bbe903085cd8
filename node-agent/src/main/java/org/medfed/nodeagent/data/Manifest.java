package org.medfed.nodeagent.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Predicate;

/**
 * A CSV manifest that lists one sample per row ({@code <path column>,label[,split]}, paths relative
 * to the manifest's folder), as PACS and lab exports often come. Rows without a split are dealt
 * between train and test by the declaration's seeded {@code test_fraction}. A row naming a missing
 * file, an unknown label or a bad split is reported to {@link BadRows} with the manifest's line.
 */
final class Manifest {
  /** One listed sample; {@code where} is the manifest file and line, for messages. */
  record Entry(Path file, int label, String where) {}

  /** The rows dealt to the two splits, each in manifest order after the seeded deal. */
  record Splits(List<Entry> train, List<Entry> test) {
    Splits {
      train = List.copyOf(train);
      test = List.copyOf(test);
    }
  }

  private Manifest() {}

  /**
   * @param pathColumn the column naming each sample's file or folder ({@code path}, {@code study})
   * @param accepted whether an existing listed path has the expected form; {@code what} names that form
   */
  static Splits read(DatasetDeclaration declaration, String pathColumn, Predicate<Path> accepted, String what,
      BadRows badRows) {
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
    int label = header.indexOf("label");
    int split = header.indexOf("split");
    if (path < 0 || label < 0) {
      throw new DataLoadException(manifest + ":1: header must name the columns '" + pathColumn + "' and 'label' (and"
          + " optionally 'split'), got " + header);
    }
    List<Entry> train = new ArrayList<>();
    List<Entry> test = new ArrayList<>();
    List<Entry> unsplit = new ArrayList<>();
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
        Entry entry = new Entry(file, Labels.indexOf(declaration.classes(), cells[label].trim(), where), where);
        (chosen.isEmpty() ? unsplit : chosen.equals("test") ? test : train).add(entry);
      } catch (DataLoadException problem) {
        badRows.report(problem);
      }
    }
    Collections.shuffle(unsplit, new Random(declaration.options().splitSeed()));
    int held = (int) Math.round(unsplit.size() * declaration.options().testFraction());
    List<Entry> dealtTrain = new ArrayList<>(unsplit.subList(held, unsplit.size()));
    dealtTrain.addAll(train);
    List<Entry> dealtTest = new ArrayList<>(unsplit.subList(0, held));
    dealtTest.addAll(test);
    return new Splits(dealtTrain, dealtTest);
  }
}
