package org.medfed.nodeagent.data;

import htsjdk.tribble.TribbleException;
import htsjdk.variant.variantcontext.Allele;
import htsjdk.variant.variantcontext.Genotype;
import htsjdk.variant.variantcontext.VariantContext;
import htsjdk.variant.vcf.VCFFileReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a VCF (plain or bgzipped) with htsjdk into genotype dosages: per sample and variant, the
 * number of non-reference alleles (0, 1 or 2 for a diploid call). Variants are named by their ID,
 * or {@code chrom:pos:ref:alt} when the ID is '.', so a job names the variants it uses and each
 * site's file is aligned to them by id. Labels come from the phenotype file. A missing call or an
 * unreadable file fails the load naming the variant and sample.
 */
final class VcfLoader {
  private VcfLoader() {}

  static LocalDataset load(DatasetDeclaration declaration, BadRows badRows) {
    Path file = declaration.location();
    if (!Files.isRegularFile(file)) {
      throw new DataLoadException("dataset '" + declaration.name() + "': missing file " + file);
    }
    List<String> variants = new ArrayList<>();
    List<float[]> dosages = new ArrayList<>();
    List<String> sampleIds;
    try (VCFFileReader reader = new VCFFileReader(file, false)) {
      sampleIds = reader.getFileHeader().getGenotypeSamples();
      if (sampleIds.isEmpty()) {
        throw new DataLoadException(file + ": has no sample columns; a VCF with genotypes is needed");
      }
      Set<String> seen = new HashSet<>();
      for (VariantContext variant : reader) {
        String id = variant.hasID() ? variant.getID() : variant.getContig() + ":" + variant.getStart() + ":"
            + variant.getReference().getDisplayString() + ":" + variant.getAlternateAlleles().stream()
                .map(Allele::getDisplayString).reduce((a, b) -> a + "," + b).orElse(".");
        if (!seen.add(id)) {
          throw new DataLoadException(file + ": variant '" + id + "' appears twice; ids must be unique");
        }
        float[] row = new float[sampleIds.size()];
        for (int s = 0; s < row.length; s++) {
          Genotype genotype = variant.getGenotype(sampleIds.get(s));
          if (genotype == null || genotype.isNoCall() || genotype.getAlleles().stream().anyMatch(Allele::isNoCall)) {
            throw new DataLoadException(file + ": variant '" + id + "' (line for " + variant.getContig() + ":"
                + variant.getStart() + ") has no call for sample '" + sampleIds.get(s) + "'; impute it before"
                + " export or drop the variant");
          }
          row[s] = genotype.getAlleles().stream().filter(Allele::isNonReference).count();
        }
        variants.add(id);
        dosages.add(row);
      }
    } catch (TribbleException | IllegalArgumentException e) {
      throw new DataLoadException(file + ": not a readable VCF (" + e.getMessage() + ")", e);
    }
    Map<String, float[]> samples = new LinkedHashMap<>();
    for (int s = 0; s < sampleIds.size(); s++) {
      float[] profile = new float[variants.size()];
      for (int v = 0; v < variants.size(); v++) {
        profile[v] = dosages.get(v)[s];
      }
      samples.put(sampleIds.get(s), profile);
    }
    return PhenotypeJoin.join(declaration, file, samples, variants, badRows);
  }
}
