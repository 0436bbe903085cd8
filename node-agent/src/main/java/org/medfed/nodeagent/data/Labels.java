package org.medfed.nodeagent.data;

import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Maps label names to one-hot rows in the declared class order. */
final class Labels {
  private Labels() {}

  static int indexOf(List<String> classes, String label, String where) {
    int index = classes.indexOf(label);
    if (index < 0) {
      throw new DataLoadException(where + ": label '" + label + "' is not one of the declared classes "
          + classes + "; fix the label or add the class to the dataset declaration");
    }
    return index;
  }

  static INDArray oneHot(int[] labelIndexes, int numClasses) {
    float[][] rows = new float[labelIndexes.length][numClasses];
    for (int i = 0; i < labelIndexes.length; i++) {
      rows[i][labelIndexes[i]] = 1f;
    }
    return labelIndexes.length == 0 ? Nd4j.create(DataType.FLOAT, 0, numClasses)
        : Nd4j.create(rows);
  }
}
