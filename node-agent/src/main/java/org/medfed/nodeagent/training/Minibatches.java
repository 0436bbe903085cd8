package org.medfed.nodeagent.training;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Consecutive minibatches of a dataset, as {@code DataSet.batchBy} gives them, but by slicing the
 * first axis: ND4J's {@code batchBy} splits into single examples and merges them back, and its merge
 * refuses features of rank 5, so it cannot batch volumes ({@code [n, channels, depth, height, width]}).
 */
final class Minibatches {
  private Minibatches() {}

  static List<DataSet> of(DataSet data, int size) {
    int n = data.numExamples();
    List<DataSet> batches = new ArrayList<>((n + size - 1) / size);
    for (int from = 0; from < n; from += size) {
      int to = Math.min(n, from + size);
      batches.add(new DataSet(rows(data.getFeatures(), from, to), rows(data.getLabels(), from, to)));
    }
    return batches;
  }

  private static INDArray rows(INDArray array, int from, int to) {
    return array.get(NDArrayIndex.interval(from, to)).dup();
  }
}
