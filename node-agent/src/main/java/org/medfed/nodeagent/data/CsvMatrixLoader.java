package org.medfed.nodeagent.data;

import java.nio.file.Path;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads a samples-by-features CSV ({@code sample_id,label,feature...}) for train and test. A cell
 * that is not a number fails the load naming the file, row and column.
 */
final class CsvMatrixLoader {
  private static final List<String> LEADING = List.of("sample_id", "label");

  private CsvMatrixLoader() {}

  static LocalDataset load(DatasetDeclaration declaration, BadRows badRows) {
    Path root = declaration.location();
    CsvTable.Rows<Integer> train = read(root.resolve("train.csv"), declaration, badRows);
    CsvTable.Rows<Integer> test = read(root.resolve("test.csv"), declaration, badRows);
    if (!train.features().equals(test.features())) {
      throw new DataLoadException(root.resolve("test.csv") + ": feature columns differ from train.csv; "
          + "both files must list the same features in the same order");
    }
    int numClasses = declaration.classes().size();
    return new LocalDataset(declaration.name(), declaration.kind(), new long[] {train.features().size()},
        declaration.classes(), toDataSet(train, numClasses), toDataSet(test, numClasses), train.features());
  }

  private static CsvTable.Rows<Integer> read(Path file, DatasetDeclaration declaration, BadRows badRows) {
    return CsvTable.read(file, declaration, LEADING,
        (cells, where) -> Labels.indexOf(declaration.classes(), cells[1].trim(), where), badRows);
  }

  static DataSet toDataSet(CsvTable.Rows<Integer> rows, int numClasses) {
    var features = rows.values().isEmpty()
        ? Nd4j.create(DataType.FLOAT, 0, rows.features().size())
        : Nd4j.create(rows.values().toArray(new float[0][]));
    return new DataSet(features, Labels.oneHot(rows.labels().stream().mapToInt(Integer::intValue).toArray(),
        numClasses));
  }
}
