package org.medfed.nodeagent.data;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the clinical-records loaders ({@link FhirLoader}, {@link OmopLoader}) do once they hold a
 * table of one row per patient: split it with {@link SeededSplit} and turn each part into a dataset
 * as {@code csv_matrix} and {@code csv_survival} do. Normalisation and alignment to a job's features
 * by id follow in {@link DatasetLoaders}, as for any table.
 */
final class RecordTables {
  private static final Logger log = LoggerFactory.getLogger(RecordTables.class);

  private RecordTables() {}

  /** A loader's table: one row per patient, and the line logged about the load (counts, unknown codes). */
  interface Table<L> {
    CsvTable.Rows<L> rows();

    String summary();
  }

  /** The dataset of a survival format from {@code survival}'s table, of any other from {@code classes}'. */
  static LocalDataset load(DatasetDeclaration declaration, Supplier<? extends Table<float[]>> survival,
      Supplier<? extends Table<Integer>> classes) {
    if (declaration.format().survival()) {
      Table<float[]> table = survival.get();
      log.info("{}", table.summary());
      return survival(declaration, table.rows());
    }
    Table<Integer> table = classes.get();
    log.info("{}", table.summary());
    return classes(declaration, table.rows());
  }

  /** Rows labelled with class indexes. */
  private static LocalDataset classes(DatasetDeclaration declaration, CsvTable.Rows<Integer> rows) {
    int classes = declaration.classes().size();
    return dataset(declaration, rows, part -> CsvMatrixLoader.toDataSet(part, classes));
  }

  /** Rows labelled with {@code [time, event]}. */
  private static LocalDataset survival(DatasetDeclaration declaration, CsvTable.Rows<float[]> rows) {
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
