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

class ExpressionMatrixLoaderTest {
  static final List<String> CLASSES = List.of("luminal", "basal");
  static final List<String> JOB_GENES = List.of("TP53", "BRCA1", "ESR1");

  @TempDir Path dir;

  private DatasetDeclaration declaration(String matrix, DatasetDeclaration.Orientation orientation,
      MissingFeatures missing) {
    return new DatasetDeclaration("expression", DatasetKind.GENOMIC, DatasetFormat.EXPRESSION_MATRIX,
        dir.resolve(matrix), CLASSES, new DatasetDeclaration.Options(Normalisation.NONE, missing, orientation,
        Optional.of(dir.resolve("pheno.csv")), "subtype", 0.25, 1, Optional.empty()));
  }

  private void phenotypes() throws Exception {
    Files.writeString(dir.resolve("pheno.csv"), "sample_id,subtype,split\ns1,luminal,train\ns2,basal,train\n"
        + "s3,basal,test\n");
  }

  @Test
  void bothOrientations_withShuffledGenes_alignToTheJobsGeneOrder() throws Exception {
    phenotypes();
    // genes x samples, TSV, genes in one order, plus a gene the job does not use
    Files.writeString(dir.resolve("a.tsv"), "gene\ts1\ts2\ts3\nESR1\t3\t30\t300\nMYC\t9\t9\t9\nTP53\t1\t10\t100\n"
        + "BRCA1\t2\t20\t200\n");
    // samples x genes, CSV, another order
    Files.writeString(dir.resolve("b.csv"), "sample_id,BRCA1,TP53,ESR1\ns2,20,10,30\ns1,2,1,3\ns3,200,100,300\n");

    for (LocalDataset raw : List.of(
        DatasetLoaders.load(declaration("a.tsv", DatasetDeclaration.Orientation.GENES_BY_SAMPLES, MissingFeatures.FAIL)),
        DatasetLoaders.load(declaration("b.csv", DatasetDeclaration.Orientation.SAMPLES_BY_GENES, MissingFeatures.FAIL)))) {
      FeatureAlignment.Result result = FeatureAlignment.align(raw, JOB_GENES, MissingFeatures.FAIL);
      LocalDataset aligned = result.dataset().orElseThrow();

      assertEquals(JOB_GENES, aligned.featureNames());
      assertEquals(2, aligned.trainSamples());
      assertEquals(1, aligned.testSamples());
      // s3 (basal) is the test sample: TP53 100, BRCA1 200, ESR1 300
      assertArrayEquals(new float[] {100, 200, 300}, aligned.test().getFeatures().getRow(0).toFloatVector());
      assertArrayEquals(new float[] {0, 1}, aligned.test().getLabels().getRow(0).toFloatVector());
      assertEquals(List.of(), result.missing());
    }
  }

  @Test
  void aMissingGene_failsTheJobOrIsImputed_asDeclared_andIsReported() throws Exception {
    phenotypes();
    Files.writeString(dir.resolve("c.csv"), "sample_id,TP53,ESR1\ns1,1,3\ns2,10,30\ns3,100,300\n");
    LocalDataset raw = DatasetLoaders.load(declaration("c.csv", DatasetDeclaration.Orientation.SAMPLES_BY_GENES,
        MissingFeatures.FAIL));

    FeatureAlignment.Result refused = FeatureAlignment.align(raw, JOB_GENES, MissingFeatures.FAIL);
    assertTrue(refused.dataset().isEmpty());
    assertEquals(List.of("BRCA1"), refused.missing());
    assertTrue(refused.report().startsWith("1 of the job's 3 features missing at dataset 'expression': [BRCA1];"
        + " its declaration says missing_features: fail"), refused.report());

    FeatureAlignment.Result imputed = FeatureAlignment.align(raw, JOB_GENES, MissingFeatures.imputeWith(-1f));
    assertArrayEquals(new float[] {100, -1, 300}, imputed.dataset().orElseThrow().test().getFeatures().getRow(0)
        .toFloatVector());
    assertTrue(imputed.report().contains("[BRCA1]; imputed with -1.0"), imputed.report());
  }

  @Test
  void badData_isReportedWithFileRowAndColumn() throws Exception {
    phenotypes();
    Files.writeString(dir.resolve("bad.csv"), "sample_id,TP53\ns1,1\ns2,n/a\ns3,3\n");
    DataLoadException cell = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(
        declaration("bad.csv", DatasetDeclaration.Orientation.SAMPLES_BY_GENES, MissingFeatures.FAIL)));
    assertEquals(dir.resolve("bad.csv") + ":3: column 'TP53' holds 'n/a', which is not a finite number",
        cell.getMessage());

    Files.writeString(dir.resolve("extra.csv"), "sample_id,TP53\ns1,1\ns2,2\ns3,3\ns9,9\n");
    DataLoadException unlabelled = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(
        declaration("extra.csv", DatasetDeclaration.Orientation.SAMPLES_BY_GENES, MissingFeatures.FAIL)));
    assertTrue(unlabelled.getMessage().contains("sample 's9' has no row in"), unlabelled.getMessage());

    Files.writeString(dir.resolve("pheno.csv"), "sample_id,subtype\ns1,luminal\ns2,her2\ns3,basal\n");
    DataLoadException label = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(
        declaration("extra.csv", DatasetDeclaration.Orientation.SAMPLES_BY_GENES, MissingFeatures.FAIL)));
    assertEquals(dir.resolve("pheno.csv") + ":3: label 'her2' is not one of the declared classes [luminal, basal];"
        + " fix the label or add the class to the dataset declaration", label.getMessage());
  }
}
