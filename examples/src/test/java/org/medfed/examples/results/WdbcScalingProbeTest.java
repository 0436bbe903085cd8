package org.medfed.examples.results;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class WdbcScalingProbeTest {
  private static LocalDataset hospital(float[][] train, float[][] test) {
    float[][] labels = new float[train.length][];
    for (int i = 0; i < train.length; i++) {
      labels[i] = new float[] {1, 0};
    }
    return new LocalDataset("d", DatasetKind.CLINICAL, new long[] {2}, List.of("a", "b"),
        new DataSet(Nd4j.create(train), Nd4j.create(labels)), new DataSet(Nd4j.create(test),
            Nd4j.create(new float[][] {{0, 1}})));
  }

  @Test
  void consortiumZScore_usesTheUnionOfTrainingSplits_notEachHospitalsOwn() {
    // Feature 0 over all training rows: 1, 3, 5 -> mean 3, population sd sqrt(8/3) = 1.632993.
    // Feature 1: 10, 10, 10 -> constant, so shifted only (scale 1).
    LocalDataset first = hospital(new float[][] {{1, 10}, {3, 10}}, new float[][] {{7, 12}});
    LocalDataset second = hospital(new float[][] {{5, 10}}, new float[][] {{3, 9}});

    List<LocalDataset> scaled = WdbcScalingProbe.consortiumZScore(List.of(first, second));

    float sd = (float) Math.sqrt(8.0 / 3);
    assertArrayEquals(new float[] {-2 / sd, 0, 0, 0}, scaled.get(0).train().getFeatures().data().asFloat(), 1e-5f);
    assertArrayEquals(new float[] {4 / sd, 2}, scaled.get(0).test().getFeatures().data().asFloat(), 1e-5f);
    assertArrayEquals(new float[] {2 / sd, 0}, scaled.get(1).train().getFeatures().data().asFloat(), 1e-5f);
    assertArrayEquals(new float[] {0, -1}, scaled.get(1).test().getFeatures().data().asFloat(), 1e-5f);
  }
}
