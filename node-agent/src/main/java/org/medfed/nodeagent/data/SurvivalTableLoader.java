package org.medfed.nodeagent.data;

import java.nio.file.Path;
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
  private static final List<String> LEADING = List.of("sample_id", "time", "event");

  private SurvivalTableLoader() {}

  static LocalDataset load(DatasetDeclaration declaration, BadRows badRows) {
    Path root = declaration.location();
    CsvTable.Rows<float[]> train = CsvTable.read(root.resolve("train.csv"), declaration, LEADING,
        SurvivalTableLoader::outcome, badRows);
    CsvTable.Rows<float[]> test = CsvTable.read(root.resolve("test.csv"), declaration, LEADING,
        SurvivalTableLoader::outcome, badRows);
    if (!train.features().equals(test.features())) {
      throw new DataLoadException(root.resolve("test.csv") + ": feature columns differ from train.csv; "
          + "both files must list the same features in the same order");
    }
    return new LocalDataset(declaration.name(), declaration.kind(), new long[] {train.features().size()}, List.of(),
        toDataSet(train), toDataSet(test), train.features());
  }

  private static float[] outcome(String[] cells, String where) {
    return outcome(cells[1], cells[2], where);
  }

  /** A [time, event] label; a negative time or an event other than 0 or 1 fails naming {@code where}. */
  static float[] outcome(String timeCell, String eventCell, String where) {
    float time = Cells.number(timeCell, where, "time");
    if (time < 0) {
      throw new DataLoadException(where + ": column 'time' holds " + time + "; times must be >= 0");
    }
    float event = Cells.number(eventCell, where, "event");
    if (event != 0 && event != 1) {
      throw new DataLoadException(where + ": column 'event' holds '" + eventCell.trim()
          + "'; use 1 for an observed event and 0 for a censored one");
    }
    return new float[] {time, event};
  }

  static DataSet toDataSet(CsvTable.Rows<float[]> rows) {
    if (rows.values().isEmpty()) {
      return new DataSet(Nd4j.create(DataType.FLOAT, 0, rows.features().size()), Nd4j.create(DataType.FLOAT, 0, 2));
    }
    return new DataSet(Nd4j.create(rows.values().toArray(new float[0][])),
        Nd4j.create(rows.labels().toArray(new float[0][])));
  }
}
