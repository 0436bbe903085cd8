package org.medfed.nodeagent.training;

import java.util.Random;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** Two classes a logistic regression separates: x0 is about -1 or +1 by class, x1 is noise. */
public final class Separable {
  private Separable() {}

  public static DataSet records(long seed, int n) {
    Random random = new Random(seed);
    float[][] x = new float[n][2];
    float[][] y = new float[n][2];
    for (int i = 0; i < n; i++) {
      int label = i % 2;
      x[i][0] = (label == 0 ? -1 : 1) + 0.3f * (float) random.nextGaussian();
      x[i][1] = (float) random.nextGaussian();
      y[i][label] = 1;
    }
    return new DataSet(Nd4j.create(x), Nd4j.create(y));
  }
}
