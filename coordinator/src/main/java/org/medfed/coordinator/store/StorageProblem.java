package org.medfed.coordinator.store;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * Why the coordinator cannot write its state: where, what the system said, how much room is left
 * there and how much a round needs.
 *
 * @param location the file, folder or database that refused the write
 * @param cause what the file system or database said
 * @param usableBytes free space on the file system holding {@code location}; empty for a remote database
 * @param neededBytes what the next round's writes need: a checkpoint plus a margin
 * @param since when the refusal was first seen
 */
public record StorageProblem(String location, String cause, Optional<Long> usableBytes, long neededBytes,
    Instant since) {
  public StorageProblem {
    if (location.isBlank()) {
      throw new IllegalArgumentException("a storage problem needs the location that refused the write");
    }
    if (neededBytes < 0) {
      throw new IllegalArgumentException("neededBytes must be >= 0, got " + neededBytes);
    }
  }

  /** One line for logs, job events, the dashboard and the CLI: what, where, how much, and the fix. */
  public String describe() {
    return location + " cannot be written (" + cause + ")"
        + usableBytes.map(free -> "; " + bytes(free) + " free there").orElse("")
        + ", the next round needs about " + bytes(neededBytes)
        + "; free space there (or give the coordinator a larger data folder) and paused jobs resume by"
        + " themselves, or run `medfed resume JOB`";
  }

  static String bytes(long count) {
    if (count < 1024) {
      return count + " B";
    }
    if (count < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", count / 1024.0);
    }
    return String.format(Locale.ROOT, "%.1f MiB", count / (1024.0 * 1024));
  }
}
