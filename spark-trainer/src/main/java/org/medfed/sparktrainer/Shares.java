package org.medfed.sparktrainer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Splits a hospital's training records into the partitions' shares: contiguous blocks in record
 * order, the first {@code n mod k} one record larger, so that a test (or an operator) can say which
 * records each partition trained on. Each share travels as ND4J's own binary DataSet format.
 */
final class Shares {
  private Shares() {}

  /**
   * @param partitions at most this many shares; fewer when there are fewer records, as an empty
   *     partition would have nothing to fit and no weight in the average
   */
  static List<DataSet> split(DataSet train, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
    }
    int records = train.isEmpty() ? 0 : train.numExamples();
    int count = Math.min(partitions, records);
    List<DataSet> shares = new ArrayList<>(count);
    int from = 0;
    for (int i = 0; i < count; i++) {
      int size = records / count + (i < records % count ? 1 : 0);
      // DataSet.getRange is declared to return the interface; it returns a DataSet, masks included.
      shares.add((DataSet) train.getRange(from, from + size));
      from += size;
    }
    return shares;
  }

  static byte[] write(DataSet share) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    share.save(bytes);
    return bytes.toByteArray();
  }

  static DataSet read(byte[] bytes) {
    DataSet share = new DataSet();
    try (ByteArrayInputStream in = new ByteArrayInputStream(bytes)) {
      share.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("a partition's share of the training records is damaged", e);
    }
    return share;
  }
}
