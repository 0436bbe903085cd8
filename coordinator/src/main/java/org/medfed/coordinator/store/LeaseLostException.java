package org.medfed.coordinator.store;

/**
 * A state write refused because this coordinator no longer holds the store's {@link Lease}: another
 * one has taken over, or the lease expired before it was renewed. Nothing of the write was stored;
 * the message names the step, this coordinator and the lease as it stands.
 */
public final class LeaseLostException extends RuntimeException {
  public LeaseLostException(String message) {
    super(message);
  }
}
