package org.medfed.nodeagent.training;

import java.util.concurrent.atomic.AtomicReference;

/** Lets the coordinator (or a shutdown) stop local training between mini-batches. Thread-safe. */
public final class CancellationToken {
  private final AtomicReference<String> reason = new AtomicReference<>();

  public static CancellationToken none() {
    return new CancellationToken();
  }

  public void cancel(String why) {
    reason.compareAndSet(null, why);
  }

  public boolean isCancelled() {
    return reason.get() != null;
  }

  /** @throws CancelledException if cancelled */
  public void throwIfCancelled() {
    String why = reason.get();
    if (why != null) {
      throw new CancelledException(why);
    }
  }

  /** Training stopped because its task was cancelled. */
  public static final class CancelledException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CancelledException(String reason) {
      super("cancelled: " + reason);
    }
  }
}
