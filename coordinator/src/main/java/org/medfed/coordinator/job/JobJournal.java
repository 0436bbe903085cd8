package org.medfed.coordinator.job;

/**
 * Where a job writes its progress before anyone acts on it or sees it: the coordinator's database,
 * so that a restarted coordinator knows every completed round and the stage a round was in.
 */
public interface JobJournal {

  /** Stores one progress step; the job's status, message, round and stage follow it. */
  void recorded(JobEvent event);

  /** Stores a completed round and its event in one transaction: a round is counted once or not at all. */
  void roundCompleted(RoundRecord record, JobEvent event);

  /** Keeps everything in memory only; for tests of the job's own logic. */
  static JobJournal inMemory() {
    return new JobJournal() {
      @Override
      public void recorded(JobEvent event) {}

      @Override
      public void roundCompleted(RoundRecord record, JobEvent event) {}
    };
  }
}
