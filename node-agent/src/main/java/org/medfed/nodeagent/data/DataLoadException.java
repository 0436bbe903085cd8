package org.medfed.nodeagent.data;

/** A dataset could not be loaded; the message names the file (and row) and what to fix. */
public final class DataLoadException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DataLoadException(String message) {
    super(message);
  }

  public DataLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
