package org.medfed.nodeagent.data;

/** The on-disk layouts the agent can read. */
public enum DatasetFormat {
  /** {@code <location>/train/<class>/*.png} and {@code <location>/test/<class>/*.png}, grayscale or RGB. */
  IMAGE_FOLDERS,
  /**
   * {@code <location>/train.csv} and {@code <location>/test.csv}: a header {@code sample_id,label,<feature>...}
   * and one sample per row.
   */
  CSV_MATRIX
}
