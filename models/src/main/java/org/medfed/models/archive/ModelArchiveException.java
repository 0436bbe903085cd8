package org.medfed.models.archive;

/** A model zip cannot be used; the message names the file, what is wrong and how to get a good one. */
public final class ModelArchiveException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ModelArchiveException(String message) {
    super(message);
  }

  public ModelArchiveException(String message, Throwable cause) {
    super(message, cause);
  }
}
