package org.medfed.coordinator.store;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Knows whether the coordinator can write its state (the database, the checkpoint folder, the
 * audit log's database copy). A job that meets a refused write reports it here and pauses; from
 * then on a probe tries a small write in each place, first after {@code firstProbe} and then at
 * doubling intervals of at most {@code maxProbe}, and tells its listeners (the job manager, which
 * resumes the paused jobs) once every write succeeds and the data folder has the room a round
 * needs. Thread-safe.
 */
public final class StorageMonitor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StorageMonitor.class);
  /** What operating systems and databases say when the disk, not the job, is the problem. */
  private static final Pattern DISK_MESSAGE = Pattern.compile(
      "(?i).*(no space left|disk quota|read-only file system|input/output error|disk is full|not enough space).*",
      Pattern.DOTALL);
  private static final Pattern SQLITE_REFUSED = Pattern.compile(
      ".*SQLITE_(FULL|IOERR|READONLY|CANTOPEN).*", Pattern.DOTALL);
  private static final byte[] PROBE = new byte[4096];

  private final CheckpointStore checkpoints;
  private final Database database;
  private final AuditMirror mirror;
  private final Clock clock;
  private final Duration firstProbe;
  private final Duration maxProbe;
  private final List<Runnable> writableListeners = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService prober = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread thread = new Thread(r, "medfed-storage-probe");
    thread.setDaemon(true);
    return thread;
  });
  private Optional<StorageProblem> problem = Optional.empty();
  private Duration nextProbe;
  private boolean probing;

  public StorageMonitor(CheckpointStore checkpoints, Database database, AuditMirror mirror, Clock clock,
      Duration firstProbe, Duration maxProbe) {
    if (firstProbe.isNegative() || firstProbe.isZero() || maxProbe.compareTo(firstProbe) < 0) {
      throw new IllegalArgumentException("storage probes need 0 < firstProbe (" + firstProbe + ") <= maxProbe ("
          + maxProbe + ")");
    }
    this.checkpoints = checkpoints;
    this.database = database;
    this.mirror = mirror;
    this.clock = clock;
    this.firstProbe = firstProbe;
    this.maxProbe = maxProbe;
    this.nextProbe = firstProbe;
  }

  /** Told, on the probe's thread, each time writes succeed again after a refusal. */
  public void onWritable(Runnable listener) {
    writableListeners.add(listener);
  }

  /** The refusal that stands, if writes are refused now. */
  public synchronized Optional<StorageProblem> problem() {
    return problem;
  }

  /** Records waiting for the database's copy of the audit log. */
  public int auditRecordsWaiting() {
    return mirror.waiting();
  }

  /**
   * Whether {@code error} (or one of its causes) is the coordinator's storage refusing a write
   * rather than a fault of the job or of the code.
   *
   * @param neededBytes what the job's next round writes, for the message
   */
  public Optional<StorageProblem> diagnose(Throwable error, long neededBytes) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && refusesWrites(sql)) {
        return Optional.of(problem(databaseLocation(), sql.getMessage(), databaseFile(), neededBytes));
      }
      if (t instanceof IOException io && (io instanceof FileSystemException || matches(DISK_MESSAGE, io))) {
        Path where = io instanceof FileSystemException fs && fs.getFile() != null ? Path.of(fs.getFile())
            : checkpoints.root();
        String cause = io instanceof FileSystemException fs && fs.getReason() != null ? fs.getReason()
            : io.getMessage();
        return Optional.of(problem(where.toString(), cause, Optional.of(where), neededBytes));
      }
    }
    return Optional.empty();
  }

  /** A job paused on {@code refusal}: probe until writes succeed, then tell the listeners. */
  public synchronized void report(StorageProblem refusal) {
    if (problem.isEmpty()) {
      log.warn("storage refuses writes, running jobs pause: {}", refusal.describe());
    }
    problem = Optional.of(problem.map(p -> new StorageProblem(refusal.location(), refusal.cause(),
        refusal.usableBytes(), Math.max(p.neededBytes(), refusal.neededBytes()), p.since())).orElse(refusal));
    if (!probing) {
      probing = true;
      nextProbe = firstProbe;
      schedule();
    }
  }

  /**
   * Tries a write in every place now (for {@code medfed resume}).
   *
   * @return the refusal, or empty when every write succeeded
   */
  public Optional<StorageProblem> probeNow() {
    long needed;
    synchronized (this) {
      needed = problem.map(StorageProblem::neededBytes).orElse(0L);
    }
    Optional<StorageProblem> refusal = tryWrites(needed);
    if (refusal.isEmpty()) {
      cleared();
    }
    return refusal;
  }

  private void schedule() {
    prober.schedule(this::probe, nextProbe.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void probe() {
    long needed;
    synchronized (this) {
      needed = problem.map(StorageProblem::neededBytes).orElse(0L);
    }
    Optional<StorageProblem> refusal = tryWrites(needed);
    if (refusal.isEmpty()) {
      cleared();
      return;
    }
    synchronized (this) {
      StorageProblem first = problem.orElse(refusal.get());
      problem = Optional.of(new StorageProblem(refusal.get().location(), refusal.get().cause(),
          refusal.get().usableBytes(), needed, first.since()));
      Duration doubled = nextProbe.multipliedBy(2);
      nextProbe = doubled.compareTo(maxProbe) > 0 ? maxProbe : doubled;
      if (!prober.isShutdown()) {
        schedule();
      }
    }
  }

  private void cleared() {
    boolean was;
    synchronized (this) {
      was = problem.isPresent();
      problem = Optional.empty();
      probing = false;
    }
    if (was) {
      log.info("storage takes writes again; paused jobs resume from their last checkpoints");
      writableListeners.forEach(Runnable::run);
    }
  }

  /** A small write in the checkpoint folder and in the database, and room for the next round. */
  private Optional<StorageProblem> tryWrites(long neededBytes) {
    Path probe = checkpoints.root().resolve(".storage-probe");
    try {
      Files.createDirectories(checkpoints.root());
      checkpoints.files().write(probe, PROBE);
      Files.deleteIfExists(probe);
    } catch (IOException e) {
      return Optional.of(problem(probe.toString(), e.getMessage(), Optional.of(checkpoints.root()), neededBytes));
    }
    Optional<Long> free = usable(checkpoints.root());
    if (free.isPresent() && free.get() < neededBytes) {
      return Optional.of(new StorageProblem(checkpoints.root().toString(), "too little free space", free,
          neededBytes, clock.instant()));
    }
    try {
      database.inTransaction(c -> {
        try (Statement statement = c.createStatement()) {
          return statement.executeUpdate("UPDATE schema_version SET version = version");
        }
      });
    } catch (SQLException e) {
      return Optional.of(problem(databaseLocation(), e.getMessage(), databaseFile(), neededBytes));
    }
    if (!mirror.catchUp()) {
      return Optional.of(problem(databaseLocation(), mirror.waiting() + " audit record(s) still wait for the"
          + " database", databaseFile(), neededBytes));
    }
    return Optional.empty();
  }

  private StorageProblem problem(String location, String cause, Optional<Path> onDisk, long neededBytes) {
    return new StorageProblem(location, cause == null ? "no reason given" : cause,
        onDisk.flatMap(StorageMonitor::usable), neededBytes, clock.instant());
  }

  private String databaseLocation() {
    return databaseFile().map(Path::toString).orElse(database.settings().describe());
  }

  private Optional<Path> databaseFile() {
    return database.settings().isEmbedded()
        ? Optional.of(Path.of(database.settings().url().substring("jdbc:sqlite:".length())))
        : Optional.empty();
  }

  /** Free space on the file system holding {@code path}, found from its nearest existing folder. */
  static Optional<Long> usable(Path path) {
    Path existing = path.toAbsolutePath();
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Files.getFileStore(existing).getUsableSpace());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static boolean refusesWrites(SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    // PostgreSQL: 53 insufficient resources (53100 disk full), 08 connection lost, 58 system I/O error.
    return matches(SQLITE_REFUSED, e) || matches(DISK_MESSAGE, e) || state.startsWith("53")
        || state.startsWith("08") || state.startsWith("58");
  }

  private static boolean matches(Pattern pattern, Throwable e) {
    return e.getMessage() != null && pattern.matcher(e.getMessage()).matches();
  }

  @Override
  public void close() {
    prober.shutdownNow();
  }
}
