package org.medfed.nodeagent.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A labelled table as hospitals export it: a header {@code <leading columns>,<feature>...} and one
 * sample per row. The caller parses the leading (label) cells of each row; feature cells must be
 * finite numbers. Each bad row fails the load or is skipped, as the declaration says.
 */
final class CsvTable {
  private CsvTable() {}

  /** Turns one row's leading cells into its label; throws {@link DataLoadException} naming {@code where}. */
  interface LabelParser<L> {
    L parse(String[] cells, String where);
  }

  /** The feature names, and per kept row its feature values and its label. */
  record Rows<L>(List<String> features, List<float[]> values, List<L> labels) {}

  static <L> Rows<L> read(Path file, DatasetDeclaration declaration, List<String> leading, LabelParser<L> labels,
      BadRows badRows) {
    if (!Files.isRegularFile(file)) {
      throw new DataLoadException("dataset '" + declaration.name() + "': missing file " + file);
    }
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String headerLine = reader.readLine();
      String[] header = headerLine == null ? new String[0] : headerLine.split(",", -1);
      if (header.length <= leading.size() || !List.of(header).subList(0, leading.size()).stream().map(String::trim)
          .toList().equals(leading)) {
        throw new DataLoadException(file + ":1: header must start with " + String.join(",", leading)
            + " then the feature names");
      }
      List<String> features = List.of(header).subList(leading.size(), header.length).stream().map(String::trim)
          .toList();
      List<float[]> rows = new ArrayList<>();
      List<L> parsed = new ArrayList<>();
      String line;
      int lineNumber = 1;
      while ((line = reader.readLine()) != null) {
        lineNumber++;
        if (line.isBlank()) {
          continue;
        }
        String[] cells = line.split(",", -1);
        String where = file + ":" + lineNumber;
        try {
          if (cells.length != header.length) {
            throw new DataLoadException(where + ": has " + cells.length + " columns but the header has "
                + header.length);
          }
          L label = labels.parse(cells, where);
          float[] row = new float[features.size()];
          for (int c = 0; c < row.length; c++) {
            row[c] = Cells.number(cells[c + leading.size()], where, features.get(c));
          }
          rows.add(row);
          parsed.add(label);
        } catch (DataLoadException problem) {
          badRows.report(problem);
        }
      }
      return new Rows<>(features, rows, parsed);
    } catch (IOException e) {
      throw new DataLoadException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }
}
