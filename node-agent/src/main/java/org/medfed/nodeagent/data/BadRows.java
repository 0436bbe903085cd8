package org.medfed.nodeagent.data;

import java.util.ArrayList;
import java.util.List;

/**
 * What a loader does with one bad record (a corrupt image, a non-numeric cell, an unknown label, an
 * unlabelled sample): fail the load (the default), or skip the record and count it, as the
 * hospital's declaration says ({@code bad_rows: fail | skip}). Nothing is dropped silently: skipped
 * records are listed in the dataset's load report.
 */
final class BadRows {
  private final boolean skip;
  private final List<String> skipped = new ArrayList<>();

  BadRows(boolean skip) {
    this.skip = skip;
  }

  static BadRows of(DatasetDeclaration declaration) {
    return new BadRows(declaration.options().skipBadRows());
  }

  /** Fails with the problem, or records it and returns so the caller skips the record. */
  void report(DataLoadException problem) {
    if (!skip) {
      throw problem;
    }
    skipped.add(problem.getMessage());
  }

  List<String> skipped() {
    return List.copyOf(skipped);
  }
}
