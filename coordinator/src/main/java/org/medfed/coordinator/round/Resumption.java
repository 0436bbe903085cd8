package org.medfed.coordinator.round;

import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.store.StorageProblem;

/** What {@code medfed resume JOB} came to. */
public sealed interface Resumption {

  /** The job runs again from its last checkpoint. */
  record Resumed(Job job) implements Resumption {}

  /** The job is not one that can be resumed now; {@code reason} names its state and what to do. */
  record Refused(String reason) implements Resumption {}

  /** The coordinator still cannot write its state, so the job would only pause again. */
  record StorageUnwritable(StorageProblem problem) implements Resumption {}
}
