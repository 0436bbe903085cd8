package org.medfed.coordinator.job;

/** A job's lifecycle: PENDING, then RUNNING, then exactly one terminal state. */
public enum JobStatus {
  PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED;

  public boolean isTerminal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED;
  }
}
