package org.medfed.secagg;

/**
 * The protocol must stop: a check failed (a lying server, a tampered ciphertext, too few
 * survivors). The message says which check and with what values; it never carries secrets.
 */
public final class SecAggException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SecAggException(String message) {
    super(message);
  }

  public SecAggException(String message, Throwable cause) {
    super(message, cause);
  }
}
