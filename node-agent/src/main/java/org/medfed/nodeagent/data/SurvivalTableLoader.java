package org.medfed.nodeagent.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads time-to-event tables ({@code sample_id,time,event,feature...}) for train and test. Labels
 * become {@code [time, event]} per sample. A bad time or event, or a non-numeric feature, fails the
 * load naming the file, row and column.
 */
final class SurvivalTableLoader {
  private SurvivalTableLoader() {}

  static LocalDataset load(DatasetDeclaration declaration, BadRows badRows) {
    Path root = declaration.location();
    Table train = read(root.resolve("train.csv"), declaration, badRows);
    Table test = read(root.resolve("test.csv"), declaration, badRows);
    if (!train.features.equals(test.features)) {
      throw new DataLoadException(root.resolve("test.csv") + ": feature columns differ from train.csv; "
          + "both files must list the same features in the same order");
    }
    return new LocalDataset(declaration.name(), declaration.kind(), new long[] {train.features.size()}, List.of(),
        train.toDataSet(), test.toDataSet(), train.features);
  }

  private record Table(List<String> features, List<float[]> rows, List<float[]> labels) {
    DataSet toDataSet() {
      if (rows.isEmpty()) {
        return new DataSet(Nd4j.create(DataType.FLOAT, 0, features.size()), Nd4j.create(DataType.FLOAT, 0, 2));
      }
      return new DataSet(Nd4j.create(rows.toArray(new float[0][])), Nd4j.create(labels.toArray(new float[0][])));
    }
  }

  private static Table read(Path file, DatasetDeclaration declaration, BadRows badRows) {
    if (!Files.isRegularFile(file)) {
      throw new DataLoadException("dataset '" + declaration.name() + "': missing file " + file);
    }
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String headerLine = reader.readLine();
      String[] header = headerLine == null ? new String[0] : headerLine.split(",", -1);
      if (header.length < 4 || !header[0].trim().equals("sample_id") || !header[1].trim().equals("time")
          || !header[2].trim().equals("event")) {
        throw new DataLoadException(file + ":1: header must start with sample_id,time,event then the feature names");
      }
      List<String> features = List.of(header).subList(3, header.length).stream().map(String::trim).toList();
      List<float[]> rows = new ArrayList<>();
      List<float[]> labels = new ArrayList<>();
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
            throw new DataLoadException(where + ": has " + cells.length + " columns but the header has " + header.length);
          }
          float time = Cells.number(cells[1], where, "time");
          if (time < 0) {
            throw new DataLoadException(where + ": column 'time' holds " + time + "; times must be >= 0");
          }
          float event = Cells.number(cells[2], where, "event");
          if (event != 0 && event != 1) {
            throw new DataLoadException(where + ": column 'event' holds '" + cells[2].trim()
                + "'; use 1 for an observed event and 0 for a censored one");
          }
          float[] row = new float[features.size()];
          for (int c = 0; c < row.length; c++) {
            row[c] = Cells.number(cells[c + 3], where, features.get(c));
          }
          rows.add(row);
          labels.add(new float[] {time, event});
        } catch (DataLoadException problem) {
          badRows.report(problem);
        }
      }
      return new Table(features, rows, labels);
    } catch (IOException e) {
      throw new DataLoadException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }
}
