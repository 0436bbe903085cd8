package org.medfed.coordinator.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.job.JobJournal;
import org.medfed.coordinator.job.JobSpec;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.models.archive.ModelArchive;
import org.medfed.models.archive.ModelInfo;

class ModelExportTest {
  private static final JobSpec GENES = JobSpecParser.parse("""
      name: brca subtypes
      dataset: tcga
      model: {architecture: mlp, hidden: [4]}
      input_shape: [3]
      num_classes: 2
      features: [ESR1, BRCA1, TP53]
      rounds: 5
      min_nodes: 1
      """);

  @TempDir Path dir;

  private static Job job(JobSpec spec) {
    return new Job("job-7", spec, "digest", "researcher", Clock.systemUTC(), JobJournal.inMemory());
  }

  @Test
  void toDl4jZip_carriesTheJobsInputsAndRound_andStaysAPlainDl4jZip() throws Exception {
    GlobalModel model = ModelCatalog.initialModel(GENES);
    Path zip = Files.write(dir.resolve("model.zip"), ModelExport.toDl4jZip(model, job(GENES), 4));

    ModelInfo info = ModelArchive.read(zip).info();
    MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(zip.toFile(), false);

    assertEquals(new ModelInfo("job-7", "brca subtypes", "tcga", new long[] {3}, 2, false,
        List.of("ESR1", "BRCA1", "TP53"), 4), info);
    assertArrayEquals(model.parameters(), restored.params().data().asFloat());
  }

  @Test
  void toDl4jZip_coxModel_isMarkedSurvival() throws Exception {
    JobSpec cox = JobSpecParser.parse("""
        name: survival
        dataset: cohort
        model: {architecture: cox}
        input_shape: [2]
        rounds: 1
        min_nodes: 1
        """);
    byte[] zip = ModelExport.toDl4jZip(ModelCatalog.initialModel(cox), job(cox), 1);

    ModelInfo info = ModelArchive.info(Files.write(dir.resolve("cox.zip"), zip));

    assertEquals(true, info.survival());
    assertEquals(0, info.numClasses());
    assertEquals(List.of(), info.features());
  }

  @Test
  void toDl4jZip_sameModel_sameBytes() {
    GlobalModel model = ModelCatalog.initialModel(GENES);

    assertArrayEquals(ModelExport.toDl4jZip(model, job(GENES), 2), ModelExport.toDl4jZip(model, job(GENES), 2));
  }
}
