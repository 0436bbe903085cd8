package org.medfed.nodeagent.data;

/** Parsing one CSV cell, with an error that names the file, row and column. */
final class Cells {
  private Cells() {}

  static float number(String cell, String where, String column) {
    try {
      float value = Float.parseFloat(cell.trim());
      if (!Float.isFinite(value)) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw new DataLoadException(where + ": column '" + column + "' holds '" + cell
          + "', which is not a finite number");
    }
  }
}
