package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A small hand-written VCF (src/test/resources/vcf/small.vcf): 3 variants, 4 samples. */
class VcfLoaderTest {
  @TempDir Path dir;

  private DatasetDeclaration declaration(Path vcf) throws Exception {
    Files.writeString(dir.resolve("pheno.csv"), "sample_id,status,split\np1,case,train\np2,control,train\n"
        + "p3,case,train\np4,control,test\n");
    return new DatasetDeclaration("genotypes", DatasetKind.GENOMIC, DatasetFormat.VCF, vcf, List.of("control", "case"),
        new DatasetDeclaration.Options(Normalisation.NONE, MissingFeatures.FAIL,
            DatasetDeclaration.Orientation.GENES_BY_SAMPLES, Optional.of(dir.resolve("pheno.csv")), "status", 0.25, 1,
            Optional.empty()));
  }

  @Test
  void genotypes_becomeDosages_namedByVariantId_andAlignToTheJobsVariants() throws Exception {
    Path vcf = Path.of(VcfLoaderTest.class.getResource("/vcf/small.vcf").toURI());

    LocalDataset data = DatasetLoaders.load(declaration(vcf));

    assertEquals(List.of("rs80357906", "rs28934578", "13:32340301:A:G"), data.featureNames());
    assertEquals(3, data.trainSamples());
    // p4 (test): 0|1, 1|1, 0/0
    assertArrayEquals(new float[] {1, 2, 0}, data.test().getFeatures().getRow(0).toFloatVector());
    LocalDataset aligned = FeatureAlignment.align(data, List.of("13:32340301:A:G", "rs80357906"), MissingFeatures.FAIL)
        .dataset().orElseThrow();
    assertArrayEquals(new float[] {0, 1}, aligned.test().getFeatures().getRow(0).toFloatVector());
  }

  @Test
  void aMissingCall_isReportedWithTheVariantAndSample() throws Exception {
    Path vcf = dir.resolve("missing.vcf");
    Files.writeString(vcf, Files.readString(Path.of(VcfLoaderTest.class.getResource("/vcf/small.vcf").toURI()))
        .replace("0/0\t0/1\t1/1\t0|1", "0/0\t./.\t1/1\t0|1"));

    DataLoadException e = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(declaration(vcf)));
    assertTrue(e.getMessage().contains("variant 'rs80357906'") && e.getMessage().contains("no call for sample 'p2'"),
        e.getMessage());
  }

  @Test
  void aFileThatIsNotAVcf_isReportedAsSuch() throws Exception {
    Path vcf = dir.resolve("broken.vcf");
    Files.writeString(vcf, "this is not a vcf\n");

    DataLoadException e = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(declaration(vcf)));
    assertTrue(e.getMessage().startsWith(vcf + ": not a readable VCF"), e.getMessage());
  }
}
