package org.medfed.coordinator.it;

import java.util.List;
import java.util.Random;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** Small in-memory classification data for end-to-end tests: Gaussian clusters, one per class. */
final class Blobs {
  static final List<String> CLASSES = List.of("a", "b", "c");

  private Blobs() {}

  /** Class centres are shared by every hospital (drawn from {@code 99}); samples come from {@code seed}. */
  static LocalDataset dataset(String name, long seed, int train, int test, int features) {
    return new LocalDataset(name, DatasetKind.GENOMIC, new long[] {features}, CLASSES,
        draw(seed, train, features), draw(seed + 1000, test, features));
  }

  private static DataSet draw(long seed, int n, int features) {
    Random centres = new Random(99);
    float[][] centre = new float[CLASSES.size()][features];
    for (float[] c : centre) {
      for (int j = 0; j < features; j++) {
        c[j] = (float) centres.nextGaussian();
      }
    }
    Random random = new Random(seed);
    float[][] x = new float[n][features];
    float[][] y = new float[n][CLASSES.size()];
    for (int i = 0; i < n; i++) {
      int label = random.nextInt(CLASSES.size());
      y[i][label] = 1;
      for (int j = 0; j < features; j++) {
        x[i][j] = centre[label][j] + (float) (1.5 * random.nextGaussian());
      }
    }
    return new DataSet(Nd4j.create(x), Nd4j.create(y));
  }
}
