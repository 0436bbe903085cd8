package org.medfed.coordinator.admin;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Collectors;
import org.medfed.coordinator.approval.Approvals;
import org.medfed.coordinator.job.FeatureScaling;
import org.medfed.coordinator.job.InvalidJobSpecException;
import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.job.JobEvent;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.coordinator.job.JobStatus;
import org.medfed.coordinator.job.RoundRecord;
import org.medfed.coordinator.model.GlobalModel;
import org.medfed.coordinator.model.ModelCard;
import org.medfed.coordinator.model.ModelExport;
import org.medfed.coordinator.round.JobManager;
import org.medfed.coordinator.round.Resumption;
import org.medfed.coordinator.round.ScalingCheckpoint;
import org.medfed.coordinator.session.FederationService;
import org.medfed.coordinator.session.NodeDirectory;
import org.medfed.coordinator.store.CheckpointStore;
import org.medfed.coordinator.store.StorageUnwritableException;
import org.medfed.proto.v1.AdminModelRequest;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.Chunk;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.HospitalMetrics;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.JobSummary;
import org.medfed.proto.v1.ListJobsRequest;
import org.medfed.proto.v1.ListJobsResponse;
import org.medfed.proto.v1.ListNodesRequest;
import org.medfed.proto.v1.ListNodesResponse;
import org.medfed.proto.v1.NodeApproval;
import org.medfed.proto.v1.NodeInfo;
import org.medfed.proto.v1.SubmitJobRequest;
import org.medfed.trust.audit.AuditLog;
import org.medfed.trust.pki.Identity;
import org.medfed.trust.tls.PeerAuthorization;
import org.medfed.wire.ChunkedPayload;
import org.medfed.wire.Digests;
import org.medfed.wire.FeatureStatistics;

/** The consortium's gRPC API: a thin adapter from the wire to {@link JobManager}. */
public final class AdminService extends AdminServiceGrpc.AdminServiceImplBase {
  private final JobManager jobs;
  private final NodeDirectory directory;
  private final CheckpointStore checkpoints;
  private final Approvals approvals;
  private final AuditLog audit;

  public AdminService(JobManager jobs, NodeDirectory directory, CheckpointStore checkpoints, Approvals approvals,
      AuditLog audit) {
    this.audit = audit;
    this.directory = directory;
    this.jobs = jobs;
    this.approvals = approvals;
    this.checkpoints = checkpoints;
  }

  @Override
  public void submitJob(SubmitJobRequest request, StreamObserver<JobSummary> responses) {
    Job job;
    try {
      // With mutual TLS the submitter is the admin certificate's name; in plaintext mode nobody is known.
      String by = PeerAuthorization.current().map(Identity::name).orElse("(unauthenticated, plaintext mode)");
      job = jobs.submit(JobSpecParser.parse(request.getJobDocument()), by);
    } catch (InvalidJobSpecException e) {
      responses.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    } catch (StorageUnwritableException e) {
      responses.onError(Status.RESOURCE_EXHAUSTED.withDescription("the job was not accepted: " + e.getMessage())
          .asRuntimeException());
      return;
    }
    responses.onNext(summary(job));
    responses.onCompleted();
  }

  @Override
  public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> responses) {
    responses.onNext(ListJobsResponse.newBuilder().addAllJobs(jobs.list().stream().map(AdminService::summary).toList())
        .build());
    responses.onCompleted();
  }

  @Override
  public void getJob(GetJobRequest request, StreamObserver<JobDetail> responses) {
    find(request.getJobId(), responses).ifPresent(job -> {
      JobDetail.Builder detail = JobDetail.newBuilder().setSummary(summary(job))
          .setSpecJson(JobSpecParser.toJson(job.spec()));
      for (RoundRecord record : job.rounds()) {
        detail.addRounds(org.medfed.proto.v1.RoundRecord.newBuilder()
            .setRound(record.round())
            .addAllParticipants(record.participants())
            .addAllDropped(record.dropped().entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList())
            .putAllMetrics(record.metrics())
            .putAllEvaluations(record.evaluations().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                e -> HospitalMetrics.newBuilder().putAllMetrics(e.getValue()).build())))
            .setSeconds(record.took().toMillis() / 1000.0));
      }
      approvals.of(job.id()).forEach((node, decision) -> detail.addApprovals(NodeApproval.newBuilder()
          .setNodeId(node).setState(Approvals.stateName(decision.state())).setReason(decision.reason())));
      responses.onNext(detail.build());
      responses.onCompleted();
    });
  }

  @Override
  public void watchJob(GetJobRequest request, StreamObserver<org.medfed.proto.v1.JobEvent> responses) {
    find(request.getJobId(), responses).ifPresent(job -> {
      var call = (ServerCallStreamObserver<org.medfed.proto.v1.JobEvent>) responses;
      Object lock = new Object();
      Runnable[] stop = new Runnable[1];
      boolean[] closed = {false};
      // History comes first; a PAUSED in it is an earlier stop, not this one.
      Instant subscribed = Instant.now();
      call.setOnCancelHandler(() -> {
        synchronized (lock) {
          closed[0] = true;
        }
      });
      stop[0] = job.watch(event -> {
        synchronized (lock) {
          if (closed[0]) {
            return;
          }
          call.onNext(toProto(event));
          // A resumed job's history holds the end of its failed run: only its present end ends the stream.
          if (event.status().isTerminal() && job.status().isTerminal()) {
            closed[0] = true;
            call.onCompleted();
          } else if (event.phase().equals("PAUSED") && !event.at().isBefore(subscribed)) {
            // The coordinator is stopping; watchers reconnect and follow the job when it resumes.
            closed[0] = true;
            call.onError(Status.UNAVAILABLE.withDescription("coordinator shutting down; job '" + job.id()
                + "' resumes when it starts again").asRuntimeException());
          }
        }
      });
      // However the job ended, and also when it had ended before this call, the stream ends with its
      // final state: a watcher never waits on a job that will not change again.
      job.finished().thenAccept(status -> {
        synchronized (lock) {
          if (!closed[0]) {
            closed[0] = true;
            call.onNext(toProto(new JobEvent(job.id(), Instant.now(), job.roundsCompleted(), status.name(),
                job.message(), Map.of(), status)));
            call.onCompleted();
          }
        }
        if (stop[0] != null) {
          stop[0].run();
        }
      });
    });
  }

  @Override
  public void resumeJob(GetJobRequest request, StreamObserver<JobSummary> responses) {
    String by = PeerAuthorization.current().map(Identity::name).orElse("(unauthenticated, plaintext mode)");
    Resumption result = jobs.resume(request.getJobId(), by);
    if (result instanceof Resumption.Resumed resumed) {
      responses.onNext(summary(resumed.job()));
      responses.onCompleted();
    } else if (result instanceof Resumption.Refused refused) {
      Status status = jobs.find(request.getJobId()).isEmpty() ? Status.NOT_FOUND : Status.FAILED_PRECONDITION;
      responses.onError(status.withDescription(refused.reason()).asRuntimeException());
    } else if (result instanceof Resumption.StorageUnwritable unwritable) {
      responses.onError(Status.RESOURCE_EXHAUSTED.withDescription("job '" + request.getJobId()
          + "' not resumed: " + unwritable.problem().describe()).asRuntimeException());
    }
  }

  @Override
  public void cancelJob(GetJobRequest request, StreamObserver<JobSummary> responses) {
    find(request.getJobId(), responses).ifPresent(job -> {
      if (!jobs.cancel(job, "cancelled by an administrator")) {
        responses.onError(Status.FAILED_PRECONDITION.withDescription("job '" + job.id() + "' already ended ("
            + job.status() + "); there is nothing to cancel").asRuntimeException());
        return;
      }
      responses.onNext(summary(job));
      responses.onCompleted();
    });
  }

  /** A model zip as a request asks for it: the round, its bytes, and the job. */
  private record Export(Job job, int round, byte[] zip) {}

  /** Without a round: the one the job keeps by its model_selection metric, else the latest. */
  private Optional<Export> export(AdminModelRequest request, StreamObserver<?> responses) {
    Optional<Job> job = find(request.getJobId(), responses);
    if (job.isEmpty()) {
      return Optional.empty();
    }
    OptionalInt round = request.getRound() > 0 ? OptionalInt.of(request.getRound())
        : job.get().bestRound().map(best -> OptionalInt.of(best.round()))
            .orElseGet(() -> checkpoints.latestRound(job.get().id()));
    Optional<GlobalModel> model = round.isPresent() ? checkpoints.read(job.get().id(), round.getAsInt())
        : Optional.empty();
    if (model.isEmpty()) {
      responses.onError(Status.NOT_FOUND.withDescription("job '" + request.getJobId() + "' has no checkpoint"
          + (request.getRound() > 0 ? " for round " + request.getRound() : " yet; wait for its first round"))
          .asRuntimeException());
      return Optional.empty();
    }
    return Optional.of(new Export(job.get(), round.getAsInt(), ModelExport.toDl4jZip(model.get(), job.get(),
        round.getAsInt(), scaling(job.get(), round.getAsInt()))));
  }

  /** A consortium_zscore job's feature scaling, from the round's checkpoint (checked against its digest). */
  private Optional<FeatureStatistics.Scaling> scaling(Job job, int round) {
    if (job.spec().featureScaling() != FeatureScaling.CONSORTIUM_ZSCORE) {
      return Optional.empty();
    }
    RoundRecord record = job.rounds().stream().filter(r -> r.round() == round).findFirst()
        .orElseThrow(() -> new IllegalStateException("job " + job.id() + " has a checkpoint of round " + round
            + " but no record of it"));
    return ScalingCheckpoint.split(checkpoints.readVerified(job.id(), round, record.checkpointSha256()).strategyState())
        .scaling();
  }

  @Override
  public void downloadModel(AdminModelRequest request, StreamObserver<Chunk> responses) {
    Optional<Export> export = export(request, responses);
    if (export.isEmpty()) {
      return;
    }
    ChunkedPayload payload = new ChunkedPayload(export.get().zip());
    if (request.getStartChunk() < 0 || request.getStartChunk() >= payload.chunkCount()) {
      responses.onError(Status.OUT_OF_RANGE.withDescription("start_chunk " + request.getStartChunk()
          + " is outside 0.." + (payload.chunkCount() - 1)).asRuntimeException());
      return;
    }
    FederationService.streamChunks(payload, request.getStartChunk(), (ServerCallStreamObserver<Chunk>) responses);
  }

  @Override
  public void getModelCard(AdminModelRequest request, StreamObserver<org.medfed.proto.v1.ModelCard> responses) {
    Optional<Export> export = export(request, responses);
    if (export.isEmpty()) {
      return;
    }
    String modelSha256 = Digests.hex(Digests.sha256(export.get().zip()));
    ModelCard card = ModelCard.of(export.get().job(), export.get().round(), modelSha256, audit.head(), Instant.now());
    String json = card.json();
    // The record that makes a changed card or model detectable: medfed audit verify --card compares both digests.
    audit.append("MODEL_CARD_ISSUED", Map.of("job", export.get().job().id(), "round", export.get().round(),
        "model_sha256", modelSha256, "card_sha256", Digests.hex(Digests.sha256(json.getBytes(StandardCharsets.UTF_8)))));
    responses.onNext(org.medfed.proto.v1.ModelCard.newBuilder().setJson(json).setMarkdown(card.markdown())
        .setModelSha256(modelSha256).build());
    responses.onCompleted();
  }

  @Override
  public void listNodes(ListNodesRequest request, StreamObserver<ListNodesResponse> responses) {
    ListNodesResponse.Builder list = ListNodesResponse.newBuilder();
    directory.all().forEach(n -> list.addNodes(NodeInfo.newBuilder()
        .setNodeId(n.nodeId())
        .setSoftwareVersion(n.softwareVersion())
        .setConnected(n.connected())
        .setConnectedSinceUnixMillis(n.connectedSince().map(Instant::toEpochMilli).orElse(0L))
        .setLastSeenUnixMillis(n.lastSeen().toEpochMilli())
        .addAllDatasets(n.datasets())));
    responses.onNext(list.build());
    responses.onCompleted();
  }

  private Optional<Job> find(String id, StreamObserver<?> responses) {
    Optional<Job> job = jobs.find(id);
    if (job.isEmpty()) {
      responses.onError(Status.NOT_FOUND.withDescription("no job with id '" + id + "'; list jobs to see the ids")
          .asRuntimeException());
    }
    return job;
  }

  static JobSummary summary(Job job) {
    JobSummary.Builder summary = JobSummary.newBuilder()
        .setJobId(job.id())
        .setName(job.spec().name())
        .setState(toProto(job.status()))
        .setRoundsCompleted(job.roundsCompleted())
        .setRoundsTotal(job.spec().rounds())
        .setMessage(job.message())
        .setDigest(job.digest())
        .setSelectionMetric(job.spec().selection().metric());
    job.bestRound().ifPresent(best -> summary.setBestRound(best.round())
        .setBestValue(best.metrics().get(job.spec().selection().metric())));
    return summary.build();
  }

  static org.medfed.proto.v1.JobEvent toProto(JobEvent event) {
    return org.medfed.proto.v1.JobEvent.newBuilder()
        .setJobId(event.jobId())
        .setAtUnixMillis(event.at().toEpochMilli())
        .setRound(event.round())
        .setPhase(event.phase())
        .setMessage(event.message())
        .putAllMetrics(event.metrics())
        .setState(toProto(event.status()))
        .build();
  }

  static JobState toProto(JobStatus status) {
    return switch (status) {
      case PENDING -> JobState.PENDING;
      case RUNNING -> JobState.RUNNING;
      case SUCCEEDED -> JobState.SUCCEEDED;
      case FAILED -> JobState.FAILED;
      case CANCELLED -> JobState.CANCELLED;
    };
  }
}
