package org.medfed.coordinator.store;

/** The coordinator's database refused a read or write; the message names the database and the step. */
public final class StoreException extends RuntimeException {
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
