package org.medfed.nodeagent.data;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.nd4j.linalg.dataset.DataSet;

/**
 * What the clinical-records loaders ({@link FhirLoader}, {@link OmopLoader}) do once they hold a
 * table of one row per patient: split it with {@link SeededSplit} and turn each part into a dataset
 * as {@code csv_matrix} and {@code csv_survival} do. Normalisation and alignment to a job's features
 * by id follow in {@link DatasetLoaders}, as for any table.
 */
final class RecordTables {
  private RecordTables() {}

  /** Rows labelled with class indexes. */
  static LocalDataset classes(DatasetDeclaration declaration, CsvTable.Rows<Integer> rows) {
    int classes = declaration.classes().size();
    return dataset(declaration, rows, part -> CsvMatrixLoader.toDataSet(part, classes));
  }

  /** Rows labelled with {@code [time, event]}. */
  static LocalDataset survival(DatasetDeclaration declaration, CsvTable.Rows<float[]> rows) {
    return dataset(declaration, rows, SurvivalTableLoader::toDataSet);
  }

  private static <L> LocalDataset dataset(DatasetDeclaration declaration, CsvTable.Rows<L> rows,
      Function<CsvTable.Rows<L>, DataSet> toDataSet) {
    DatasetDeclaration.Options options = declaration.options();
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < rows.values().size(); i++) {
      order.add(i);
    }
    SeededSplit<Integer> split = SeededSplit.of(order, options.testFraction(), options.splitSeed());
    return new LocalDataset(declaration.name(), declaration.kind(), new long[] {rows.features().size()},
        declaration.classes(), toDataSet.apply(part(rows, split.train())), toDataSet.apply(part(rows, split.test())),
        rows.features());
  }

  private static <L> CsvTable.Rows<L> part(CsvTable.Rows<L> all, List<Integer> picked) {
    return new CsvTable.Rows<>(all.features(), picked.stream().map(all.values()::get).toList(),
        picked.stream().map(all.labels()::get).toList());
  }
}
