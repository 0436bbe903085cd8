package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.MissingFeatures;
import org.medfed.nodeagent.data.Normalisation;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;

/**
 * A job that names its genes trains across three hospitals whose files differ in layout and gene
 * order: a genes-by-samples TSV with an extra gene, a samples-by-genes CSV in shuffled order, and a
 * labelled matrix that lacks one of the job's genes (imputed, as its declaration allows).
 */
class FilesOnDiskEndToEndTest {
  static final List<String> CLASSES = List.of("luminal", "basal");
  static final List<String> GENES = List.of("TP53", "BRCA1", "ESR1", "PGR", "ERBB2", "MKI67", "KRT5", "FOXA1");

  @TempDir Path dir;

  @Test
  void jobNamingItsGenes_trainsOnThreeDifferentLayouts() throws Exception {
    try (Federation federation = new Federation(dir.resolve("federation"))) {
      federation.agentFromFiles("hospital-a", genesBySamples(dir.resolve("a"), 1));
      federation.agentFromFiles("hospital-b", samplesByGenes(dir.resolve("b"), 2));
      federation.agentFromFiles("hospital-c", labelledMatrixWithoutEsr1(dir.resolve("c"), 3));

      String jobId = federation.submit("""
          name: genes
          dataset: expression
          model: {architecture: mlp, hidden: [8]}
          features: [%s]
          input_shape: [%d]
          num_classes: 2
          rounds: 3
          min_nodes: 3
          learning_rate: 0.02
          deadlines: {selection: 30s, training: 60s, evaluation: 30s}
          """.formatted(String.join(", ", GENES), GENES.size())).getJobId();
      federation.watch(jobId, Duration.ofMinutes(2));
      JobDetail detail = federation.job(jobId);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(List.of("hospital-a", "hospital-b", "hospital-c"),
          detail.getRounds(2).getParticipantsList().stream().sorted().toList());
      double accuracy = detail.getRounds(2).getMetricsOrThrow("eval_accuracy");
      assertTrue(accuracy > 0.8, "two well-separated subtypes should be learnt, got " + accuracy);
    }
  }

  /** Expression of one sample: basal samples carry lower ESR1/PGR/FOXA1 and higher KRT5/MKI67. */
  private static double value(String gene, int label, Random random) {
    double shift = switch (gene) {
      case "ESR1", "PGR", "FOXA1" -> label == 0 ? 2 : -2;
      case "KRT5", "MKI67" -> label == 0 ? -2 : 2;
      default -> 0;
    };
    return shift + random.nextGaussian();
  }

  private static List<int[]> samples(long seed) {
    Random random = new Random(seed);
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      out.add(new int[] {i, random.nextInt(2)});
    }
    return out;
  }

  private static void phenotypes(Path file, String prefix, List<int[]> samples) throws IOException {
    StringBuilder text = new StringBuilder("sample_id,subtype\n");
    samples.forEach(s -> text.append(prefix).append(s[0]).append(',').append(CLASSES.get(s[1])).append('\n'));
    Files.writeString(file, text);
  }

  private static DatasetDeclaration matrix(Path file, DatasetDeclaration.Orientation orientation,
      MissingFeatures missing, Path phenotypes) {
    return new DatasetDeclaration("expression", DatasetKind.GENOMIC, DatasetFormat.EXPRESSION_MATRIX, file, CLASSES,
        new DatasetDeclaration.Options(Normalisation.NONE, missing, orientation, Optional.of(phenotypes), "subtype",
            0.25, 7, Optional.empty()));
  }

  private static DatasetDeclaration genesBySamples(Path dir, long seed) throws IOException {
    Files.createDirectories(dir);
    List<int[]> samples = samples(seed);
    Random random = new Random(seed + 100);
    List<String> genes = new ArrayList<>(GENES);
    genes.add("GAPDH");
    StringBuilder text = new StringBuilder("gene");
    samples.forEach(s -> text.append("\ta").append(s[0]));
    text.append('\n');
    for (String gene : genes) {
      text.append(gene);
      for (int[] s : samples) {
        text.append('\t').append((float) value(gene, s[1], random));
      }
      text.append('\n');
    }
    Files.writeString(dir.resolve("expression.tsv"), text);
    phenotypes(dir.resolve("phenotypes.csv"), "a", samples);
    return matrix(dir.resolve("expression.tsv"), DatasetDeclaration.Orientation.GENES_BY_SAMPLES, MissingFeatures.FAIL,
        dir.resolve("phenotypes.csv"));
  }

  private static DatasetDeclaration samplesByGenes(Path dir, long seed) throws IOException {
    Files.createDirectories(dir);
    List<int[]> samples = samples(seed);
    Random random = new Random(seed + 100);
    List<String> genes = new ArrayList<>(GENES);
    Collections.shuffle(genes, new Random(seed));
    StringBuilder text = new StringBuilder("sample_id," + String.join(",", genes) + "\n");
    for (int[] s : samples) {
      text.append('b').append(s[0]);
      for (String gene : genes) {
        text.append(',').append((float) value(gene, s[1], random));
      }
      text.append('\n');
    }
    Files.writeString(dir.resolve("expression.csv"), text);
    phenotypes(dir.resolve("phenotypes.csv"), "b", samples);
    return matrix(dir.resolve("expression.csv"), DatasetDeclaration.Orientation.SAMPLES_BY_GENES, MissingFeatures.FAIL,
        dir.resolve("phenotypes.csv"));
  }

  private static DatasetDeclaration labelledMatrixWithoutEsr1(Path dir, long seed) throws IOException {
    Files.createDirectories(dir);
    Random random = new Random(seed + 100);
    List<String> genes = new ArrayList<>(GENES);
    genes.remove("ESR1");
    for (String split : List.of("train", "test")) {
      StringBuilder text = new StringBuilder("sample_id,label," + String.join(",", genes) + "\n");
      for (int[] s : samples(split.equals("train") ? seed : seed + 50)) {
        text.append('c').append(s[0]).append(',').append(CLASSES.get(s[1]));
        for (String gene : genes) {
          text.append(',').append((float) value(gene, s[1], random));
        }
        text.append('\n');
      }
      Files.writeString(dir.resolve(split + ".csv"), text);
    }
    return new DatasetDeclaration("expression", DatasetKind.GENOMIC, DatasetFormat.CSV_MATRIX, dir, CLASSES,
        DatasetDeclaration.Options.DEFAULTS.withMissingFeatures(MissingFeatures.imputeWith(0f)));
  }
}
