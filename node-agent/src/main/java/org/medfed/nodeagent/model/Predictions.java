package org.medfed.nodeagent.model;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.medfed.models.archive.ModelInfo;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A model's outputs for unlabelled samples, one CSV row each: {@code sample_id,predicted_class,
 * p_<class>...} for a classifier, {@code sample_id,risk_score} for a Cox model (higher: earlier event).
 */
record Predictions(List<String> header, List<List<String>> rows) {
  private static final int BATCH = 256;

  Predictions {
    header = List.copyOf(header);
    rows = rows.stream().map(List::copyOf).toList();
  }

  static Predictions of(MultiLayerNetwork network, List<String> ids, INDArray features, ModelInfo info,
      List<String> classes) {
    List<String> header = new ArrayList<>(List.of("sample_id"));
    if (info.survival()) {
      header.add("risk_score");
    } else {
      header.add("predicted_class");
      classes.forEach(c -> header.add("p_" + c));
    }
    List<List<String>> rows = new ArrayList<>();
    for (int from = 0; from < ids.size(); from += BATCH) {
      int to = Math.min(ids.size(), from + BATCH);
      INDArray batch = features.get(NDArrayIndex.interval(from, to));
      float[][] output = network.output(batch, false).toFloatMatrix();
      for (int i = 0; i < output.length; i++) {
        List<String> row = new ArrayList<>(List.of(ids.get(from + i)));
        if (info.survival()) {
          row.add(number(output[i][0]));
        } else {
          row.add(classes.get(argmax(output[i])));
          for (float p : output[i]) {
            row.add(number(p));
          }
        }
        rows.add(row);
      }
    }
    return new Predictions(header, rows);
  }

  void write(Path file) throws IOException {
    StringBuilder csv = new StringBuilder();
    csv.append(line(header));
    rows.forEach(r -> csv.append(line(r)));
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, csv, StandardCharsets.UTF_8);
  }

  private static int argmax(float[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }

  private static String number(float value) {
    return String.format(Locale.ROOT, "%.6f", value);
  }

  private static String line(List<String> cells) {
    return String.join(",", cells.stream().map(Predictions::quoted).toList()) + "\n";
  }

  /** RFC 4180: a cell with a comma, quote or line break is quoted, its quotes doubled. */
  private static String quoted(String cell) {
    return cell.matches(".*[,\"\\r\\n].*") ? "\"" + cell.replace("\"", "\"\"") + "\"" : cell;
  }
}
