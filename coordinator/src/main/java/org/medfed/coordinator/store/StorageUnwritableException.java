package org.medfed.coordinator.store;

/** A step could not be taken because the coordinator cannot write its state; the problem says where and the fix. */
public final class StorageUnwritableException extends RuntimeException {
  private final StorageProblem problem;

  public StorageUnwritableException(StorageProblem problem, Throwable cause) {
    super(problem.describe(), cause);
    this.problem = problem;
  }

  public StorageProblem problem() {
    return problem;
  }
}
