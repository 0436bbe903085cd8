package org.medfed.coordinator.job;

/** A job document is malformed; {@link #field()} names the offending field. */
public final class InvalidJobSpecException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String field;

  public InvalidJobSpecException(String field, String problem) {
    super("job field '" + field + "': " + problem);
    this.field = field;
  }

  public String field() {
    return field;
  }
}
