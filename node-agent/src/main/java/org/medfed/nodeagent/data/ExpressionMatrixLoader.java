package org.medfed.nodeagent.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a lab's expression matrix in either orientation and joins it by sample id to a phenotype
 * file for labels (and, optionally, a {@code split} column of train/test). Features keep their gene
 * ids, so a job that names its genes is aligned to them by id ({@link FeatureAlignment}). Every bad
 * cell, unknown label or unlabelled sample fails the load with the file, row and column.
 */
final class ExpressionMatrixLoader {
  private ExpressionMatrixLoader() {}

  static LocalDataset load(DatasetDeclaration declaration, BadRows badRows) {
    Matrix matrix = read(declaration.location(), declaration);
    return PhenotypeJoin.join(declaration, declaration.location(), matrix.samples(), matrix.genes(), badRows);
  }

  /** Each sample's profile by id, in file order, over {@code genes}. */
  record Matrix(List<String> genes, LinkedHashMap<String, float[]> samples) {}

  /** Reads a matrix in the declared orientation, without labels: also how {@code predict} reads its input. */
  static Matrix read(Path file, DatasetDeclaration declaration) {
    List<String[]> rows = PhenotypeJoin.readTable(file, declaration);
    if (rows.size() < 2 || rows.get(0).length < 2) {
      throw new DataLoadException(file + ": expected a header and at least one data row");
    }
    // samples -> gene -> value, in file order
    List<String> genes = new ArrayList<>();
    LinkedHashMap<String, float[]> samples = new LinkedHashMap<>();
    String[] header = rows.get(0);
    if (declaration.options().orientation() == DatasetDeclaration.Orientation.GENES_BY_SAMPLES) {
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
    return new Matrix(genes, samples);
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
