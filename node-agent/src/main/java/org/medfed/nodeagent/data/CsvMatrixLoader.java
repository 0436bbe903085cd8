package org.medfed.nodeagent.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads a samples-by-features CSV ({@code sample_id,label,feature...}) for train and test. A cell
 * that is not a number fails the load naming the file, row and column.
 */
final class CsvMatrixLoader {
  private CsvMatrixLoader() {}

  static LocalDataset load(DatasetDeclaration declaration, BadRows badRows) {
    Path root = declaration.location();
    Table train = read(root.resolve("train.csv"), declaration, badRows);
    Table test = read(root.resolve("test.csv"), declaration, badRows);
    if (!train.features.equals(test.features)) {
      throw new DataLoadException(root.resolve("test.csv") + ": feature columns differ from train.csv; "
          + "both files must list the same features in the same order");
    }
    int numClasses = declaration.classes().size();
    return new LocalDataset(declaration.name(), declaration.kind(), new long[] {train.features.size()},
        declaration.classes(), train.toDataSet(numClasses), test.toDataSet(numClasses), train.features);
  }

  private record Table(List<String> features, List<float[]> rows, List<Integer> labels) {
    DataSet toDataSet(int numClasses) {
      float[][] matrix = rows.toArray(new float[0][]);
      var featureArray = matrix.length == 0
          ? Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 0, features.size())
          : Nd4j.create(matrix);
      return new DataSet(featureArray, Labels.oneHot(labels.stream().mapToInt(Integer::intValue).toArray(), numClasses));
    }
  }

  private static Table read(Path file, DatasetDeclaration declaration, BadRows badRows) {
    if (!Files.isRegularFile(file)) {
      throw new DataLoadException("dataset '" + declaration.name() + "': missing file " + file);
    }
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String headerLine = reader.readLine();
      if (headerLine == null) {
        throw new DataLoadException(file + ": file is empty; expected a header sample_id,label,<features>");
      }
      String[] header = headerLine.split(",", -1);
      if (header.length < 3 || !header[0].trim().equals("sample_id") || !header[1].trim().equals("label")) {
        throw new DataLoadException(file + ":1: header must start with sample_id,label then the feature names");
      }
      List<String> features = List.of(header).subList(2, header.length).stream().map(String::trim).toList();
      List<float[]> rows = new ArrayList<>();
      List<Integer> labels = new ArrayList<>();
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
          int label = Labels.indexOf(declaration.classes(), cells[1].trim(), where);
          float[] row = new float[features.size()];
          for (int c = 0; c < row.length; c++) {
            row[c] = Cells.number(cells[c + 2], where, features.get(c));
          }
          rows.add(row);
          labels.add(label);
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
