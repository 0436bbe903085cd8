package org.medfed.nodeagent.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Joins per-sample feature vectors (from an expression matrix or a VCF) to the phenotype file by
 * sample id: labels from {@code label_column}, the split from a {@code split} column (train/test)
 * or a seeded {@code test_fraction}. A sample without a phenotype row, an unknown label, a bad
 * split value or a repeated sample fails the load naming the file and row.
 */
final class PhenotypeJoin {
  private PhenotypeJoin() {}

  private record Phenotype(int label, String split) {}

  static LocalDataset join(DatasetDeclaration declaration, Path dataFile, Map<String, float[]> samples,
      List<String> features, BadRows badRows) {
    DatasetDeclaration.Options options = declaration.options();
    Path phenotypeFile = options.phenotypes().orElseThrow();
    Map<String, Phenotype> phenotypes = phenotypes(phenotypeFile, declaration, badRows);
    List<String> train = new ArrayList<>();
    List<String> test = new ArrayList<>();
    List<String> unsplit = new ArrayList<>();
    for (String sample : samples.keySet()) {
      Phenotype phenotype = phenotypes.get(sample);
      if (phenotype == null) {
        badRows.report(new DataLoadException(dataFile + ": sample '" + sample + "' has no row in " + phenotypeFile
            + "; every sample needs a label"));
        continue;
      }
      switch (phenotype.split) {
        case "train" -> train.add(sample);
        case "test" -> test.add(sample);
        default -> unsplit.add(sample);
      }
    }
    SeededSplit<String> drawn = SeededSplit.of(unsplit, options.testFraction(), options.splitSeed());
    test.addAll(drawn.test());
    train.addAll(drawn.train());
    int classes = declaration.classes().size();
    return new LocalDataset(declaration.name(), declaration.kind(), new long[] {features.size()},
        declaration.classes(), dataSet(train, samples, phenotypes, features.size(), classes),
        dataSet(test, samples, phenotypes, features.size(), classes), features);
  }

  private static Map<String, Phenotype> phenotypes(Path file, DatasetDeclaration declaration, BadRows badRows) {
    List<String[]> rows = readTable(file, declaration);
    if (rows.isEmpty()) {
      throw new DataLoadException(file + ": empty; expected a header with sample_id and "
          + declaration.options().labelColumn());
    }
    List<String> header = List.of(rows.get(0)).stream().map(String::trim).toList();
    int id = header.indexOf("sample_id");
    int label = header.indexOf(declaration.options().labelColumn());
    int split = header.indexOf("split");
    if (id < 0 || label < 0) {
      throw new DataLoadException(file + ":1: header must name the columns 'sample_id' and '"
          + declaration.options().labelColumn() + "' (label_column), got " + header);
    }
    Map<String, Phenotype> out = new HashMap<>();
    for (int r = 1; r < rows.size(); r++) {
      String where = file + ":" + (r + 1);
      try {
        String[] cells = rows.get(r);
        if (cells.length != header.size()) {
          throw new DataLoadException(where + ": has " + cells.length + " columns but the header has " + header.size());
        }
        String splitValue = split < 0 ? "" : cells[split].trim().toLowerCase(Locale.ROOT);
        if (!splitValue.isEmpty() && !splitValue.equals("train") && !splitValue.equals("test")) {
          throw new DataLoadException(where + ": column 'split' holds '" + cells[split].trim() + "'; use train, test"
              + " or leave it empty for a seeded split");
        }
        if (out.put(cells[id].trim(), new Phenotype(Labels.indexOf(declaration.classes(), cells[label].trim(), where),
            splitValue)) != null) {
          throw new DataLoadException(where + ": sample '" + cells[id].trim() + "' appears twice");
        }
      } catch (DataLoadException problem) {
        badRows.report(problem);
      }
    }
    return out;
  }

  private static DataSet dataSet(List<String> ids, Map<String, float[]> samples, Map<String, Phenotype> phenotypes,
      int features, int classes) {
    if (ids.isEmpty()) {
      return new DataSet(Nd4j.create(DataType.FLOAT, 0, features),
          Labels.oneHot(new int[0], classes));
    }
    float[][] x = new float[ids.size()][];
    int[] labels = new int[ids.size()];
    for (int i = 0; i < ids.size(); i++) {
      x[i] = samples.get(ids.get(i));
      labels[i] = phenotypes.get(ids.get(i)).label;
    }
    return new DataSet(Nd4j.create(x), Labels.oneHot(labels, classes));
  }

  /** A delimited table (tab for .tsv, else comma), trailing blank lines dropped. */
  static List<String[]> readTable(Path file, DatasetDeclaration declaration) {
    if (!Files.isRegularFile(file)) {
      throw new DataLoadException("dataset '" + declaration.name() + "': missing file " + file);
    }
    String separator = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".tsv") ? "\t" : ",";
    try {
      List<String[]> rows = new ArrayList<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        rows.add(line.isBlank() ? new String[0] : line.split(separator, -1));
      }
      while (!rows.isEmpty() && rows.get(rows.size() - 1).length == 0) {
        rows.remove(rows.size() - 1);
      }
      return rows;
    } catch (IOException e) {
      throw new DataLoadException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }
}
