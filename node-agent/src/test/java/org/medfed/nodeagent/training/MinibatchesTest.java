package org.medfed.nodeagent.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class MinibatchesTest {
  @Test
  void of_tableFeatures_givesTheBatchesBatchByGives() {
    DataSet data = new DataSet(Nd4j.arange(0, 14).castTo(DataType.FLOAT).reshape(7, 2),
        Nd4j.eye(7).castTo(DataType.FLOAT));

    List<DataSet> ours = Minibatches.of(data, 3);
    List<DataSet> nd4j = data.batchBy(3);

    assertEquals(nd4j.size(), ours.size());
    for (int i = 0; i < ours.size(); i++) {
      assertEquals(nd4j.get(i).getFeatures(), ours.get(i).getFeatures());
      assertEquals(nd4j.get(i).getLabels(), ours.get(i).getLabels());
    }
  }

  @Test
  void of_volumeFeatures_slicesTheFirstAxis_whereBatchByCannotMergeRankFive() {
    DataSet data = new DataSet(Nd4j.arange(0, 5 * 8).castTo(DataType.FLOAT).reshape(5, 1, 2, 2, 2),
        Nd4j.eye(5).castTo(DataType.FLOAT));

    List<DataSet> batches = Minibatches.of(data, 2);

    assertEquals(3, batches.size());
    assertArrayEquals(new long[] {2, 1, 2, 2, 2}, batches.get(0).getFeatures().shape());
    assertArrayEquals(new long[] {1, 1, 2, 2, 2}, batches.get(2).getFeatures().shape());
    assertEquals(32.0, batches.get(2).getFeatures().getDouble(0, 0, 0, 0, 0));
    assertEquals(1.0, batches.get(2).getLabels().getDouble(0, 4));
  }
}
