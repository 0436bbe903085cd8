package org.medfed.examples.synthetic;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Gene-expression profiles (log scale, hundreds of genes) whose subtype is set by a gene signature:
 * each subtype raises a few marker genes and lowers a few others, on top of correlated gene
 * programmes and noise. Each hospital adds its own batch effect, a per-gene shift and scale, as lab
 * platforms and protocols do.
 */
public final class ExpressionGenerator {
  public static final List<String> CLASSES = List.of("luminal", "basal", "her2", "normal-like");
  private final int genes;
  private final double[] baseline;
  private final double[][] signature;
  private final double[][] programmes;

  /** @param seed fixes the biology (baselines, signatures), shared by every hospital */
  public ExpressionGenerator(int genes, long seed) {
    this.genes = genes;
    Random random = new Random(seed);
    baseline = new double[genes];
    for (int g = 0; g < genes; g++) {
      baseline[g] = 2 + 4 * random.nextDouble();
    }
    signature = new double[CLASSES.size()][genes];
    for (double[] s : signature) {
      for (int k = 0; k < 12; k++) {
        s[random.nextInt(genes)] += 0.55 + 0.35 * random.nextDouble();
        s[random.nextInt(genes)] -= 0.55 + 0.35 * random.nextDouble();
      }
    }
    programmes = new double[6][genes];
    for (double[] p : programmes) {
      for (int g = 0; g < genes; g++) {
        p[g] = random.nextDouble() < 0.15 ? random.nextGaussian() * 0.6 : 0;
      }
    }
  }

  public int genes() {
    return genes;
  }

  public List<String> geneNames() {
    List<String> names = new ArrayList<>();
    for (int g = 0; g < genes; g++) {
      names.add(String.format("GENE%04d", g + 1));
    }
    return names;
  }

  /** A hospital's batch effect: per-gene additive shift and multiplicative scale. */
  public record BatchEffect(double[] shift, double[] scale) {
    public BatchEffect {
      shift = shift.clone();
      scale = scale.clone();
    }
  }

  public BatchEffect batchEffect(Random random) {
    double[] shift = new double[genes];
    double[] scale = new double[genes];
    double global = 0.5 * random.nextGaussian();
    for (int g = 0; g < genes; g++) {
      shift[g] = global + 0.35 * random.nextGaussian();
      scale[g] = Math.exp(0.2 * random.nextGaussian());
    }
    return new BatchEffect(shift, scale);
  }

  public float[] sample(int label, BatchEffect batch, Random random) {
    double[] factors = new double[programmes.length];
    for (int k = 0; k < factors.length; k++) {
      factors[k] = random.nextGaussian();
    }
    float[] x = new float[genes];
    for (int g = 0; g < genes; g++) {
      double value = baseline[g] + signature[label][g] + 0.7 * random.nextGaussian();
      for (int k = 0; k < factors.length; k++) {
        value += factors[k] * programmes[k][g];
      }
      // Centre on the baseline so values are near zero, as after the usual per-gene standardisation.
      x[g] = (float) ((value * batch.scale[g] + batch.shift[g]) - baseline[g]);
    }
    return x;
  }
}
