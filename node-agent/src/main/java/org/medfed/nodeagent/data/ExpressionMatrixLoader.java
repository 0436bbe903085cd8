package org.medfed.nodeagent.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads a lab's expression matrix in either orientation and joins it by sample id to a phenotype
 * file for labels (and, optionally, a {@code split} column of train/test). Features keep their gene
 * ids, so a job that names its genes is aligned to them by id ({@link FeatureAlignment}). Every bad
 * cell, unknown label or unlabelled sample fails the load with the file, row and column.
 */
final class ExpressionMatrixLoader {
  private ExpressionMatrixLoader() {}

  static LocalDataset load(DatasetDeclaration declaration) {
    DatasetDeclaration.Options options = declaration.options();
    Path file = declaration.location();
    List<String[]> rows = read(file, declaration);
    if (rows.size() < 2 || rows.get(0).length < 2) {
      throw new DataLoadException(file + ": expected a header and at least one data row");
    }
    // samples -> gene -> value, in file order
    List<String> genes = new ArrayList<>();
    LinkedHashMap<String, float[]> samples = new LinkedHashMap<>();
    String[] header = rows.get(0);
    if (options.orientation() == DatasetDeclaration.Orientation.GENES_BY_SAMPLES) {
      List<String> sampleIds = trimmed(header, 1);
      List<float[]> byGene = new ArrayList<>();
      for (int r = 1; r < rows.size(); r++) {
        String[] cells = checkWidth(rows.get(r), header.length, file, r + 1);
        genes.add(cells[0].trim());
        float[] values = new float[sampleIds.size()];
        for (int c = 0; c < values.length; c++) {
          values[c] = Cells.number(cells[c + 1], file + ":" + (r + 1), sampleIds.get(c));
        }
        byGene.add(values);
      }
      for (int s = 0; s < sampleIds.size(); s++) {
        float[] profile = new float[genes.size()];
        for (int g = 0; g < genes.size(); g++) {
          profile[g] = byGene.get(g)[s];
        }
        putUnique(samples, sampleIds.get(s), profile, file, 1);
      }
    } else {
      genes.addAll(trimmed(header, 1));
      for (int r = 1; r < rows.size(); r++) {
        String[] cells = checkWidth(rows.get(r), header.length, file, r + 1);
        float[] profile = new float[genes.size()];
        for (int g = 0; g < profile.length; g++) {
          profile[g] = Cells.number(cells[g + 1], file + ":" + (r + 1), genes.get(g));
        }
        putUnique(samples, cells[0].trim(), profile, file, r + 1);
      }
    }
    if (genes.stream().distinct().count() != genes.size()) {
      throw new DataLoadException(file + ": a gene id appears twice; ids must be unique to align features by id");
    }
    Path phenotypeFile = options.phenotypes().orElseThrow();
    Map<String, Phenotype> phenotypes = phenotypes(phenotypeFile, declaration);
    List<String> train = new ArrayList<>();
    List<String> test = new ArrayList<>();
    List<String> unsplit = new ArrayList<>();
    for (String sample : samples.keySet()) {
      Phenotype phenotype = phenotypes.get(sample);
      if (phenotype == null) {
        throw new DataLoadException(file + ": sample '" + sample + "' has no row in " + phenotypeFile
            + "; every sample needs a label");
      }
      switch (phenotype.split) {
        case "train" -> train.add(sample);
        case "test" -> test.add(sample);
        default -> unsplit.add(sample);
      }
    }
    // Samples without a given split are held out at random, reproducibly for a seed.
    Collections.shuffle(unsplit, new Random(options.splitSeed()));
    int held = (int) Math.round(unsplit.size() * options.testFraction());
    test.addAll(unsplit.subList(0, held));
    train.addAll(unsplit.subList(held, unsplit.size()));
    int classes = declaration.classes().size();
    return new LocalDataset(declaration.name(), declaration.kind(), new long[] {genes.size()}, declaration.classes(),
        dataSet(train, samples, phenotypes, genes.size(), classes), dataSet(test, samples, phenotypes, genes.size(),
        classes), genes);
  }

  private record Phenotype(int label, String split) {}

  private static Map<String, Phenotype> phenotypes(Path file, DatasetDeclaration declaration) {
    List<String[]> rows = read(file, declaration);
    if (rows.isEmpty()) {
      throw new DataLoadException(file + ": empty; expected a header with sample_id and "
          + declaration.options().labelColumn());
    }
    List<String> header = trimmed(rows.get(0), 0);
    int id = header.indexOf("sample_id");
    int label = header.indexOf(declaration.options().labelColumn());
    int split = header.indexOf("split");
    if (id < 0 || label < 0) {
      throw new DataLoadException(file + ":1: header must name the columns 'sample_id' and '"
          + declaration.options().labelColumn() + "' (label_column), got " + header);
    }
    Map<String, Phenotype> out = new HashMap<>();
    for (int r = 1; r < rows.size(); r++) {
      String[] cells = checkWidth(rows.get(r), header.size(), file, r + 1);
      String where = file + ":" + (r + 1);
      String splitValue = split < 0 ? "" : cells[split].trim().toLowerCase(java.util.Locale.ROOT);
      if (!splitValue.isEmpty() && !splitValue.equals("train") && !splitValue.equals("test")) {
        throw new DataLoadException(where + ": column 'split' holds '" + cells[split].trim() + "'; use train, test"
            + " or leave it empty for a seeded split");
      }
      if (out.put(cells[id].trim(), new Phenotype(Labels.indexOf(declaration.classes(), cells[label].trim(), where),
          splitValue)) != null) {
        throw new DataLoadException(where + ": sample '" + cells[id].trim() + "' appears twice");
      }
    }
    return out;
  }

  private static DataSet dataSet(List<String> ids, Map<String, float[]> samples, Map<String, Phenotype> phenotypes,
      int features, int classes) {
    if (ids.isEmpty()) {
      return new DataSet(Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 0, features),
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

  private static List<String[]> read(Path file, DatasetDeclaration declaration) {
    if (!Files.isRegularFile(file)) {
      throw new DataLoadException("dataset '" + declaration.name() + "': missing file " + file);
    }
    String separator = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".tsv") ? "\t" : ",";
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

  private static String[] checkWidth(String[] cells, int width, Path file, int line) {
    if (cells.length != width) {
      throw new DataLoadException(file + ":" + line + ": has " + cells.length + " columns but the header has " + width);
    }
    return cells;
  }

  private static List<String> trimmed(String[] cells, int from) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < cells.length; i++) {
      out.add(cells[i].trim());
    }
    return out;
  }

  private static void putUnique(Map<String, float[]> samples, String id, float[] profile, Path file, int line) {
    if (samples.put(id, profile) != null) {
      throw new DataLoadException(file + ":" + line + ": sample '" + id + "' appears twice");
    }
  }
}
