package org.medfed.coordinator.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.ToIntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.medfed.coordinator.Coordinator;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.proto.v1.AdminModelRequest;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobEvent;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.JobSummary;
import org.medfed.proto.v1.ListJobsRequest;
import org.medfed.proto.v1.ListNodesRequest;
import org.medfed.proto.v1.ModelCard;
import org.medfed.proto.v1.NodeApproval;
import org.medfed.proto.v1.RoundRecord;
import org.medfed.proto.v1.SubmitJobRequest;
import org.medfed.trust.tls.CoordinatorAddress;
import org.medfed.trust.tls.CoordinatorChannels;
import org.medfed.trust.tls.Tls;
import org.medfed.trust.tls.TlsFiles;
import org.medfed.trust.tls.TlsProblems;
import org.medfed.wire.Digests;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code medfed}: runs a coordinator ({@code serve}) and drives it ({@code submit}, {@code watch}, ...).
 * Exit codes: 0 success, 1 the job failed or was cancelled, 2 bad input, 3 coordinator unreachable,
 * 4 refused (certificate, role or revocation), 5 an audit log failed verification, 6 the coordinator
 * stopped because it lost the store's lease to another one.
 */
@Command(name = "medfed", mixinStandardHelpOptions = true, version = "medfed 0.1.0",
    description = "Federated learning for hospitals: coordinator and consortium commands.",
    subcommands = {MedfedCli.Serve.class, MedfedCli.Submit.class, MedfedCli.Jobs.class, MedfedCli.Show.class,
        MedfedCli.Watch.class, MedfedCli.Cancel.class, MedfedCli.Resume.class, MedfedCli.Download.class,
        MedfedCli.Nodes.class,
        TrustCommands.Provision.class, TrustCommands.Revoke.class, TrustCommands.Audit.class,
        PrivacyCommands.class})
public final class MedfedCli {
  static final int OK = 0;
  static final int JOB_FAILED = 1;
  static final int BAD_INPUT = 2;
  static final int UNREACHABLE = 3;
  static final int REFUSED = 4;
  static final int AUDIT_BROKEN = 5;
  static final int LEASE_LOST = 6;
  static final int DOWNLOAD_FAILED = 7;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Downloads and verifies the model a job keeps (its best round by model_selection, else its latest) as a DL4J zip. */
  public static byte[] downloadModel(AdminServiceGrpc.AdminServiceBlockingStub admin, String jobId) {
    return downloadModel(admin, jobId, 0);
  }

  /** Downloads and verifies the model of a checkpointed round (0: the one the job keeps) as a DL4J zip. */
  public static byte[] downloadModel(AdminServiceGrpc.AdminServiceBlockingStub admin, String jobId, int round) {
    return Download.download(admin, jobId, round);
  }

  /**
   * Writes model-card.json and model-card.md beside the model file: the coordinator issues the card for
   * the same request and records its digest and the model's in its audit log.
   */
  public static void writeCard(AdminServiceGrpc.AdminServiceBlockingStub admin, String jobId, int round, byte[] model,
      Path out) throws IOException {
    ModelCard card = admin.getModelCard(AdminModelRequest.newBuilder().setJobId(jobId).setRound(round).build());
    String sha256 = Digests.hex(Digests.sha256(model));
    if (!card.getModelSha256().equals(sha256)) {
      throw new IllegalStateException("the coordinator issued the card for another model file (" + card.getModelSha256()
          + ") than the one downloaded (" + sha256 + "): the job's kept round changed meanwhile; download again with"
          + " --round N");
    }
    Path json = out.resolveSibling("model-card.json");
    Path markdown = out.resolveSibling("model-card.md");
    Files.writeString(json, card.getJson(), StandardCharsets.UTF_8);
    Files.writeString(markdown, card.getMarkdown(), StandardCharsets.UTF_8);
    System.out.println("wrote " + json + " and " + markdown + " (check them with `medfed audit verify AUDIT_LOG"
        + " --card " + json + "`)");
  }

  public static int run(String... args) {
    return new CommandLine(new MedfedCli())
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          boolean verbose = parsed.originalArgs().contains("--verbose");
          if (verbose) {
            e.printStackTrace();
          }
          if (e instanceof ModelDownload.FailedException failed) {
            cmd.getErr().println("medfed download: " + failed.getMessage());
            return DOWNLOAD_FAILED;
          }
          if (e instanceof StatusRuntimeException s) {
            Status status = s.getStatus();
            Optional<String> tls = TlsProblems.explain(status, "the coordinator");
            if (tls.isPresent()) {
              cmd.getErr().println("medfed: " + tls.get());
              return REFUSED;
            }
            if (status.getCode() == Status.Code.UNAVAILABLE) {
              cmd.getErr().println("medfed: cannot reach the coordinator (" + status.getDescription()
                  + "); is it running, and does --coordinator host:port (or the kit's admin.yaml) point at it?");
              return UNREACHABLE;
            }
            if (status.getCode() == Status.Code.UNAUTHENTICATED || status.getCode() == Status.Code.PERMISSION_DENIED) {
              cmd.getErr().println("medfed: the coordinator refused this kit: " + status.getDescription());
              return REFUSED;
            }
            cmd.getErr().println("medfed: " + status.getCode() + ": " + status.getDescription());
            return status.getCode() == Status.Code.UNAVAILABLE ? UNREACHABLE : BAD_INPUT;
          }
          cmd.getErr().println("medfed: " + e.getMessage() + (verbose ? "" : " (run with --verbose for details)"));
          return BAD_INPUT;
        })
        .execute(args);
  }

  /** Options shared by commands that talk to a coordinator. */
  static final class Connection {
    @Option(names = "--kit", defaultValue = "${env:MEDFED_KIT}",
        description = "An admin startup kit folder (from `medfed provision`); default: $MEDFED_KIT.")
    Path kit;

    @Option(names = "--coordinator", split = ",", description = "host:port, or several (host1:port,host2:port) for"
        + " a coordinator with standbys: tried in order, skipping a standby; default: the kit's coordinator, else"
        + " localhost:7443.")
    List<String> addresses;

    @Option(names = "--insecure-plaintext", description = "Talk to a development coordinator without TLS.")
    boolean plaintext;

    @Option(names = "--verbose", description = "Print stack traces with errors.")
    boolean verbose;

    /** A channel to each coordinator address, each checking that coordinator's name; calls go to the first. */
    CoordinatorChannels open() {
      if (plaintext) {
        List<CoordinatorAddress> targets = addresses == null ? List.of(new CoordinatorAddress("localhost", 7443))
            : given();
        try {
          return CoordinatorChannels.open(targets, a -> NettyChannelBuilder.forAddress(a.host(), a.port())
              .usePlaintext().build());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      if (kit == null) {
        throw new CommandLine.ParameterException(new CommandLine(this), "admin commands need an admin startup kit:"
            + " --kit DIR or MEDFED_KIT=DIR (made by `medfed provision`), or --insecure-plaintext for a"
            + " development coordinator");
      }
      AdminKit admin = AdminKit.load(kit);
      try {
        TlsFiles.Material material = admin.tls().load();
        return CoordinatorChannels.open(addresses == null ? admin.coordinators() : given(),
            a -> Tls.channel(a.host(), a.port(), material).build());
      } catch (IOException e) {
        throw new IllegalArgumentException("admin kit " + kit + ": " + e.getMessage(), e);
      }
    }

    private List<CoordinatorAddress> given() {
      List<CoordinatorAddress> parsed = new ArrayList<>();
      for (String address : addresses) {
        HostPort target = HostPort.parse(address, "--coordinator");
        parsed.add(new CoordinatorAddress(target.host(), target.port()));
      }
      return parsed;
    }

    /**
     * Runs one admin call with a 30 s deadline on the first coordinator that drives the jobs (see
     * {@link CoordinatorChannels#onActive}), on channels that are closed afterwards.
     */
    int call(ToIntFunction<AdminServiceGrpc.AdminServiceBlockingStub> body) {
      CoordinatorChannels channels = open();
      try {
        return channels.onActive(channel -> body.applyAsInt(AdminServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)));
      } finally {
        channels.shutdownNow();
      }
    }
  }

  @Command(name = "serve", mixinStandardHelpOptions = true, description = "Run a coordinator until stopped.")
  static final class Serve implements Callable<Integer> {
    @Option(names = "--config", description = "coordinator.yaml from the coordinator's startup kit (mutual TLS).")
    Path configFile;

    @Option(names = "--insecure-plaintext", description = "Run without TLS, for development on one machine only.")
    boolean plaintext;

    @Option(names = "--port", description = "Port to listen on (default: the config's, else 7443).")
    Integer port;

    @Option(names = "--bind", description = "Address to listen on (default: the config's, else 0.0.0.0).")
    String bind;

    @Option(names = "--data-dir", description = "Checkpoints and the audit log go here (default: the config's, else medfed-data).")
    Path dataDir;

    @Option(names = "--allow-nodes", split = ",", description = "Only these node ids may connect.")
    Set<String> allowNodes;

    @Option(names = "--http", description = "host:port of the read-only dashboard and Prometheus /metrics"
        + " (default: the config's, else 127.0.0.1:8080; port 0 picks a free one).")
    String http;

    @Option(names = "--no-http", description = "Serve neither the dashboard nor /metrics.")
    boolean noHttp;

    @Override
    public Integer call() throws Exception {
      if ((configFile == null) == !plaintext) {
        System.err.println("medfed serve: give --config coordinator.yaml (from `medfed provision`) for mutual TLS,"
            + " or --insecure-plaintext for development; not both, not neither");
        return BAD_INPUT;
      }
      CoordinatorFile file = configFile == null ? CoordinatorFile.plaintext() : CoordinatorFile.load(configFile);
      Path data = dataDir != null ? dataDir : file.dataDir();
      CoordinatorConfig config = CoordinatorConfig.defaults(data).withLeaseTtl(file.leaseTtl())
          .withChunkSize(file.chunkSize());
      if (file.security().isPresent()) {
        config = config.withTls(file.security().get());
      }
      if (allowNodes != null) {
        config = config.withAllowedNodes(allowNodes);
      }
      if (file.store().isPresent()) {
        config = config.withStore(file.store().get());
      }
      Optional<HostPort> dashboard = noHttp ? Optional.empty()
          : http != null ? Optional.of(HostPort.parse(http, "--http")) : file.http();
      if (dashboard.isPresent()) {
        config = config.withHttp(new InetSocketAddress(dashboard.get().host(), dashboard.get().port()));
      }
      String address = bind != null ? bind : file.bind();
      int listen = port != null ? port : file.port();
      NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(address, listen))
          // Agents ping every 30 s so that dead hospitals are noticed; allow that, refuse floods.
          .permitKeepAliveTime(10, TimeUnit.SECONDS)
          .permitKeepAliveWithoutCalls(true);
      Coordinator coordinator;
      try {
        coordinator = Coordinator.start(config, builder);
      } catch (IOException e) {
        System.err.println("medfed: cannot start on " + address + ":" + listen + ": " + e.getMessage()
            + (e instanceof BindException || String.valueOf(e.getMessage()).contains("bind")
                ? " (is another coordinator running? choose --port)" : ""));
        return BAD_INPUT;
      }
      Runtime.getRuntime().addShutdownHook(new Thread(coordinator::close, "medfed-shutdown"));
      System.out.println("medfed coordinator listening on " + address + ":" + coordinator.port()
          + (config.tls().isPresent() ? " with mutual TLS" : " in INSECURE PLAINTEXT mode") + ", data in "
          + data.toAbsolutePath() + ", state in " + config.store().describe()
          + coordinator.httpAddress().map(a -> ", dashboard and /metrics on http://" + a).orElse(""));
      if (!coordinator.isActive()) {
        System.out.println("medfed coordinator standby: " + coordinator.activeHolder() + " holds the store's lease"
            + " and drives the jobs; this one (" + coordinator.holder() + ") drives nothing, refuses agents and admin"
            + " calls naming that holder, and takes over when the lease is free");
      }
      coordinator.awaitTermination();
      if (coordinator.stopReason().isPresent()) {
        System.err.println("medfed: coordinator stopped: " + coordinator.stopReason().get()
            + "; start it again to stand by");
        return LEASE_LOST;
      }
      return OK;
    }
  }

  @Command(name = "submit", mixinStandardHelpOptions = true, description = "Submit a job file (YAML or JSON).")
  static final class Submit implements Callable<Integer> {
    @Mixin Connection connection;

    @Parameters(paramLabel = "JOB_FILE", description = "The job document.")
    Path file;

    @Option(names = "--watch", description = "Follow the job until it ends.")
    boolean watch;

    @Override
    public Integer call() throws IOException, InterruptedException {
      if (!Files.isRegularFile(file)) {
        System.err.println("medfed: job file " + file + " does not exist");
        return BAD_INPUT;
      }
      SubmitJobRequest request = SubmitJobRequest.newBuilder().setJobDocument(Files.readString(file)).build();
      CoordinatorChannels channels = connection.open();
      try {
        // A standby refuses before it reads the job, so the next address cannot get the job twice.
        JobSummary job = channels.onActive(channel -> AdminServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(60, TimeUnit.SECONDS).submitJob(request));
        System.out.println(job.getJobId());
        System.err.println("job digest " + job.getDigest() + ": hospitals that have not approved it run"
            + " `medfed-agent approve --config agent.yaml " + job.getDigest().substring(0, 12) + "`");
        return watch ? Watch.follow(channels, job.getJobId(), 300) : OK;
      } finally {
        channels.shutdownNow();
      }
    }
  }

  @Command(name = "jobs", mixinStandardHelpOptions = true, description = "List jobs.")
  static final class Jobs implements Callable<Integer> {
    @Mixin Connection connection;

    @Override
    public Integer call() {
      return connection.call(admin -> {
        var jobs = admin.listJobs(ListJobsRequest.getDefaultInstance());
        System.out.printf("%-32s %-10s %-9s %s%n", "JOB", "STATE", "ROUNDS", "MESSAGE");
        for (JobSummary job : jobs.getJobsList()) {
          System.out.printf("%-32s %-10s %4d/%-4d %s%n", job.getJobId(), job.getState(), job.getRoundsCompleted(),
              job.getRoundsTotal(), job.getMessage());
        }
        return OK;
      });
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a job, its spec and its rounds.")
  static final class Show implements Callable<Integer> {
    @Mixin Connection connection;

    @Parameters(paramLabel = "JOB_ID")
    String jobId;

    @Override
    public Integer call() {
      return connection.call(admin -> {
        JobDetail job = admin.getJob(GetJobRequest.newBuilder().setJobId(jobId).build());
        System.out.println(job.getSummary().getJobId() + "  " + job.getSummary().getState() + "  "
            + job.getSummary().getMessage());
        System.out.println("digest " + job.getSummary().getDigest() + " (what hospitals approve)");
        if (job.getSummary().getBestRound() > 0) {
          System.out.println("best round " + job.getSummary().getBestRound() + " by "
              + job.getSummary().getSelectionMetric() + " = " + MetricText.value(job.getSummary().getSelectionMetric(),
              job.getSummary().getBestValue()) + " (what `medfed download` takes unless given --round)");
        }
        for (NodeApproval approval : job.getApprovalsList()) {
          System.out.println("  " + approval.getNodeId() + ": " + approval.getState()
              + (approval.getReason().isEmpty() ? "" : " (" + approval.getReason() + ")"));
        }
        System.out.println(job.getSpecJson());
        for (RoundRecord round : job.getRoundsList()) {
          System.out.printf("round %3d  %5.1fs  nodes=%s  %s%s%n", round.getRound(), round.getSeconds(),
              round.getParticipantsList(), MetricText.of(round.getMetricsMap()),
              round.getDroppedCount() == 0 ? "" : "  dropped=" + round.getDroppedList());
          MetricText.byHospital(round).forEach(line -> System.out.println("           " + line));
        }
        return OK;
      });
    }
  }

  @Command(name = "watch", mixinStandardHelpOptions = true, description = {"Follow a job's progress until it ends:"
      + " each stage, nodes answered, metrics per round and an estimate of the time left.",
      "Rides out a coordinator restart, and follows a standby that takes over when the kit or --coordinator"
          + " lists it. Exit code 0 when the job succeeded, 1 when it failed or was cancelled."})
  static final class Watch implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());

    @Mixin Connection connection;

    @Parameters(paramLabel = "JOB_ID")
    String jobId;

    @Option(names = "--reconnect-seconds", defaultValue = "300",
        description = "How long to keep trying while the coordinator is unreachable (restarting);"
            + " default ${DEFAULT-VALUE}.")
    int reconnectSeconds;

    @Override
    public Integer call() throws InterruptedException {
      CoordinatorChannels channels = connection.open();
      try {
        return follow(channels, jobId, reconnectSeconds);
      } finally {
        channels.shutdownNow();
      }
    }

    private static final Set<Status.Code> LOST = Set.of(Status.Code.UNAVAILABLE, Status.Code.INTERNAL,
        Status.Code.UNKNOWN, Status.Code.CANCELLED);

    /**
     * Prints the job's events until it ends. A coordinator that goes away, or that is (or has become)
     * a standby, sends it to the next address, round and round, for up to {@code reconnectSeconds}.
     */
    static int follow(CoordinatorChannels channel, String jobId, int reconnectSeconds) throws InterruptedException {
      Progress progress = new Progress();
      long unreachableSince = 0;
      while (true) {
        try {
          Iterator<JobEvent> events = AdminServiceGrpc.newBlockingStub(channel)
              .watchJob(GetJobRequest.newBuilder().setJobId(jobId).build());
          int replayed = 0;
          while (events.hasNext()) {
            JobEvent event = events.next();
            unreachableSince = 0;
            // After a reconnect the stored history comes again; print only what is new.
            if (!event.getPhase().equals("ANSWERS") && replayed++ < progress.stored) {
              continue;
            }
            progress.show(event);
            if (event.getPhase().equals("ROUND_COMPLETED")) {
              // The hospitals' own figures are kept with the round, not in the event: a site the model fails shows here.
              AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                  .getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getRoundsList().stream()
                  .filter(r -> r.getRound() == event.getRound()).findFirst()
                  .ifPresent(r -> MetricText.byHospital(r).forEach(line -> System.out.println("          " + line)));
            }
          }
          if (!ended(progress.state)) {
            // A coordinator that could not tell watchers the end (older releases, on a full disk): ask.
            JobSummary now = AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getSummary();
            if (ended(now.getState())) {
              System.out.println(TIME.format(Instant.now()) + "  job " + now.getState() + ": " + now.getMessage());
              progress.state = now.getState();
            }
          }
          if (ended(progress.state)) {
            return progress.state == JobState.SUCCEEDED ? OK : JOB_FAILED;
          }
          // The stream ended while the job runs on: the coordinator went away. Follow it again.
          throw Status.UNAVAILABLE.withDescription("the coordinator ended the stream").asRuntimeException();
        } catch (StatusRuntimeException e) {
          // A coordinator killed mid-message can also end the stream as INTERNAL, UNKNOWN or CANCELLED.
          if (!LOST.contains(e.getStatus().getCode()) && !CoordinatorChannels.elsewhere(e)) {
            throw e;
          }
          String lost = channel.current();
          String next = channel.moveOn();
          if (unreachableSince == 0) {
            unreachableSince = System.nanoTime();
            System.out.println(TIME.format(Instant.now()) + "  lost the coordinator"
                + (channel.size() > 1 ? " at " + lost : "") + " (" + e.getStatus().getCode() + ": "
                + e.getStatus().getDescription() + "); retrying for up to " + reconnectSeconds + " s"
                + (channel.size() > 1 ? " at " + String.join(", ", channel.targets()) + " in turn" : ""));
          } else if (System.nanoTime() - unreachableSince > TimeUnit.SECONDS.toNanos(reconnectSeconds)) {
            throw e;
          }
          // The next address at once; a pause only once every address has been tried.
          if (next.equals(channel.targets().get(0))) {
            Thread.sleep(2000);
          }
        }
      }
    }

    private static boolean ended(JobState state) {
      return state == JobState.SUCCEEDED || state == JobState.FAILED || state == JobState.CANCELLED;
    }

    /** What `watch` prints, and what it has learnt about the job so far. */
    private static final class Progress {
      int stored;
      JobState state = JobState.RUNNING;
      private static final Pattern ROUND_OF = Pattern.compile("round \\d+/(\\d+)");
      private final List<Long> roundEnds = new ArrayList<>();

      void show(JobEvent event) {
        state = event.getState();
        String time = TIME.format(Instant.ofEpochMilli(event.getAtUnixMillis()));
        if (event.getPhase().equals("ANSWERS")) {
          System.out.println(time + "    " + event.getMessage());
          return;
        }
        stored++;
        System.out.println(time + "  " + event.getMessage()
            + (event.getMetricsCount() == 0 ? "" : "  " + formatMetrics(event)));
        if (event.getPhase().equals("ROUND_COMPLETED")) {
          roundEnds.add(event.getAtUnixMillis());
          timeLeft(event).ifPresent(left -> System.out.println(time + "  " + left));
        }
      }

      /** From the pace of the rounds seen so far (watch from the start for a better estimate). */
      private Optional<String> timeLeft(JobEvent event) {
        Matcher total = ROUND_OF.matcher(event.getMessage());
        if (roundEnds.size() < 2 || !total.find()) {
          return Optional.empty();
        }
        int left = Integer.parseInt(total.group(1)) - event.getRound();
        double perRound = (roundEnds.get(roundEnds.size() - 1) - roundEnds.get(0)) / 1000.0 / (roundEnds.size() - 1);
        long seconds = Math.round(perRound * left);
        return left <= 0 ? Optional.empty() : Optional.of(String.format(Locale.ROOT,
            "about %dm%02ds left (%d rounds at %.1f s per round)", seconds / 60, seconds % 60, left, perRound));
      }
    }

    static String formatMetrics(JobEvent event) {
      return MetricText.of(event.getMetricsMap());
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel a job.")
  static final class Cancel implements Callable<Integer> {
    @Mixin Connection connection;

    @Parameters(paramLabel = "JOB_ID")
    String jobId;

    @Override
    public Integer call() {
      return connection.call(admin -> {
        JobSummary job = admin.cancelJob(GetJobRequest.newBuilder().setJobId(jobId).build());
        System.out.println(job.getJobId() + " " + job.getState());
        return OK;
      });
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = {"Run a job again from its last"
      + " checkpoint: one paused because the coordinator could not write its state (a full disk), or one that"
      + " FAILED, whether the coordinator's fault or its own (too few hospitals): resume it once the cause is gone.",
      "Completed rounds are kept and counted once. Succeeded and cancelled jobs are not resumed; submit again."})
  static final class Resume implements Callable<Integer> {
    @Mixin Connection connection;

    @Parameters(paramLabel = "JOB_ID")
    String jobId;

    @Override
    public Integer call() {
      return connection.call(admin -> {
        JobSummary job = admin.resumeJob(GetJobRequest.newBuilder().setJobId(jobId).build());
        System.out.println(job.getJobId() + " " + job.getState() + ": resumes at round "
            + (job.getRoundsCompleted() + 1) + "/" + job.getRoundsTotal() + "; follow it with `medfed watch "
            + job.getJobId() + "`");
        return OK;
      });
    }
  }

  @Command(name = "download", mixinStandardHelpOptions = true,
      description = "Download a job's model as a DL4J zip (ModelSerializer.restoreMultiLayerNetwork reads it).")
  static final class Download implements Callable<Integer> {
    @Mixin Connection connection;

    @Parameters(paramLabel = "JOB_ID")
    String jobId;

    @Option(names = {"-o", "--out"}, required = true, description = "Where to write the model zip.")
    Path out;

    @Option(names = "--round", defaultValue = "0", description = "A checkpointed round; 0 (default) = the round the"
        + " job keeps by its model_selection metric, or the latest when no round reported it.")
    int round;

    @Override
    public Integer call() throws IOException {
      CoordinatorChannels channel = connection.open();
      try {
        // The coordinator that drives the jobs knows this one; the download then stays with it.
        channel.onActive(c -> AdminServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS)
            .getJob(GetJobRequest.newBuilder().setJobId(jobId).build()));
        byte[] model = download(AdminServiceGrpc.newBlockingStub(channel), jobId, round);
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        try (OutputStream file = Files.newOutputStream(out)) {
          file.write(model);
        }
        System.out.println("wrote " + out + " (" + model.length + " bytes)");
        writeCard(AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS), jobId, round,
            model, out);
        return OK;
      } finally {
        channel.shutdownNow();
      }
    }

    /** Downloads and verifies a model, resuming from the last good chunk; see {@link ModelDownload}. */
    public static byte[] download(AdminServiceGrpc.AdminServiceBlockingStub admin, String jobId, int round) {
      try {
        return new ModelDownload(admin, Duration.ofMillis(500)).fetch(jobId, round);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ModelDownload.FailedException("interrupted while downloading the model of job '" + jobId + "'");
      }
    }
  }

  @Command(name = "nodes", mixinStandardHelpOptions = true,
      description = "List hospital nodes: connected ones first, then those seen before (also by an earlier run).")
  static final class Nodes implements Callable<Integer> {
    @Mixin Connection connection;

    @Override
    public Integer call() {
      return connection.call(admin -> {
        var nodes = admin.listNodes(ListNodesRequest.getDefaultInstance());
        System.out.printf("%-20s %-13s %-20s %-24s %s%n", "NODE", "STATE", "VERSION", "LAST SEEN", "DATASETS");
        nodes.getNodesList().forEach(n -> System.out.printf("%-20s %-13s %-20s %-24s %s%n", n.getNodeId(),
            n.getConnected() ? "connected" : "disconnected", n.getSoftwareVersion(),
            Instant.ofEpochMilli(n.getLastSeenUnixMillis()), String.join("; ", n.getDatasetsList())));
        return OK;
      });
    }
  }
}
