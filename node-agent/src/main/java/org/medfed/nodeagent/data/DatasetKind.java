package org.medfed.nodeagent.data;

/** What a dataset holds; decides which loaders and input shapes make sense. */
public enum DatasetKind {
  IMAGING,
  GENOMIC,
  /** Tabular clinical variables, e.g. for time-to-event (survival) outcomes. */
  CLINICAL
}
