package org.medfed.examples.results;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Lays FLamby's Fed-TCGA-BRCA files out as six hospitals would hold them: {@code centre-K/brca/}
 * with {@code train.csv} and {@code test.csv} in the agent's survival layout
 * ({@code sample_id,time,event,<39 features>}), following FLamby's fixed split
 * ({@code train_test_split.csv}: fold2 = train_K / test_K). The 8 patients FLamby leaves out
 * (region "Other") are left out here too. Patient barcodes stay as they are: nothing here tries to
 * re-identify anyone (NCI GDC data access terms).
 */
final class TcgaBrcaFiles {
  private TcgaBrcaFiles() {}

  static List<Path> layOut(Path data, Path hospitals) throws IOException {
    List<List<String>> table = readCsv(data.resolve("brca.csv"));
    List<String> header = table.get(0);
    if (header.size() != 42 || !header.get(0).equals("pid") || !header.get(40).equals("E") || !header.get(41).equals("T")) {
      throw new IllegalArgumentException(data.resolve("brca.csv") + ": expected pid, 39 features, E, T; got "
          + header.size() + " columns");
    }
    Map<String, String> fold = new HashMap<>();
    List<List<String>> folds = readCsv(data.resolve("train_test_split.csv"));
    for (List<String> row : folds.subList(1, folds.size())) {
      fold.put(row.get(0), row.get(2));
    }
    List<Path> centres = new ArrayList<>();
    Map<String, BufferedWriter> writers = new HashMap<>();
    try {
      for (int k = 0; k < TcgaBrcaBenchmark.CENTRES; k++) {
        Path dir = hospitals.resolve("centre-" + k).resolve("brca");
        Files.createDirectories(dir);
        centres.add(dir.getParent());
        for (String split : List.of("train", "test")) {
          BufferedWriter out = Files.newBufferedWriter(dir.resolve(split + ".csv"), StandardCharsets.UTF_8);
          out.write("sample_id,time,event," + String.join(",", header.subList(1, 40).stream()
              .map(name -> name.replace(",", ";")).toList()));
          out.newLine();
          writers.put(split + "_" + k, out);
        }
      }
      for (List<String> row : table.subList(1, table.size())) {
        String where = fold.get(row.get(0));
        if (where == null) {
          continue;  // region "Other": not in FLamby's split
        }
        BufferedWriter out = writers.get(where);
        out.write(row.get(0) + "," + row.get(41) + "," + row.get(40) + "," + String.join(",", row.subList(1, 40)));
        out.newLine();
      }
    } finally {
      for (BufferedWriter out : writers.values()) {
        out.close();
      }
    }
    return centres;
  }

  /** A small CSV reader: comma-separated, fields optionally double-quoted (FLamby quotes two). */
  static List<List<String>> readCsv(Path file) throws IOException {
    List<List<String>> rows = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      List<String> fields = new ArrayList<>();
      StringBuilder field = new StringBuilder();
      boolean quoted = false;
      for (int i = 0; i < line.length(); i++) {
        char c = line.charAt(i);
        if (c == '"') {
          quoted = !quoted;
        } else if (c == ',' && !quoted) {
          fields.add(field.toString());
          field.setLength(0);
        } else {
          field.append(c);
        }
      }
      fields.add(field.toString());
      rows.add(fields);
    }
    return rows;
  }
}
