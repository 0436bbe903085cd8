package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.approval.ApprovalStore;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.ListJobsRequest;
import org.medfed.proto.v1.NodeApproval;
import org.medfed.trust.audit.AuditVerifier;
import org.medfed.trust.pki.CertificateAuthority;
import org.medfed.trust.pki.Pem;
import org.medfed.trust.pki.Role;
import org.medfed.trust.tls.CoordinatorAddress;
import org.medfed.trust.tls.CoordinatorChannels;
import org.medfed.trust.tls.Tls;
import org.medfed.trust.tls.TlsFiles;
import org.medfed.trust.tls.TlsProblems;

/**
 * Trust over real mutual TLS on loopback: who may connect and as what, revocation while connected,
 * expiry, the coordinator's name, and the hospital's approval of the jobs that run on its data.
 */
class TrustEndToEndTest {
  static final String JOB = """
      name: approvals
      dataset: expression
      model: {architecture: mlp, hidden: [8]}
      input_shape: [20]
      num_classes: 3
      rounds: 1
      min_nodes: %d
      local_epochs: 1
      batch_size: 16
      learning_rate: 0.01
      seed: 5
      deadlines: {selection: 20s, training: 60s, evaluation: 30s}
      """;

  @TempDir Path dataDir;

  @Test
  void certificateFromAnotherCa_isRefusedAtTheHandshakeAndAudited() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      Instant now = Instant.now();
      CertificateAuthority other = CertificateAuthority.create(dataDir.resolve("other-ca"), "other-consortium",
          now.minusSeconds(60), now.plus(Duration.ofDays(1)));
      CertificateAuthority.Issued impostor = other.issue("hospital-a", Role.HOSPITAL, List.of(), now.minusSeconds(60),
          now.plus(Duration.ofDays(1)));
      Path kit = dataDir.resolve("impostor");
      Pem.write(kit.resolve("a.crt"), impostor.certificate(), false);
      Pem.write(kit.resolve("a.key"), impostor.privateKey(), true);
      TlsFiles files = new TlsFiles(kit.resolve("a.crt"), kit.resolve("a.key"), dataDir.resolve("pki/ca/ca.crt"));
      ManagedChannel channel = federation.channel(files, "127.0.0.1");
      try {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> AdminServiceGrpc
            .newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).listJobs(ListJobsRequest.getDefaultInstance()));
        assertTrue(TlsProblems.explain(e.getStatus(), "coordinator").isPresent(), e.getStatus().toString());
      } finally {
        channel.shutdownNow();
      }
      assertTrue(auditText(federation).contains("not by this consortium's CA"), auditText(federation));
    }
  }

  @Test
  void rolesAreEnforced_hospitalCannotAdministerAndAdminCannotActAsHospital() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      ManagedChannel hospital = federation.channel("hospital-a");
      TlsFiles aliceKit = federation.issue("alice", Role.ADMIN, List.of());
      ManagedChannel admin = federation.channel(aliceKit, "127.0.0.1");
      try {
        StatusRuntimeException asAdmin = assertThrows(StatusRuntimeException.class, () -> AdminServiceGrpc
            .newBlockingStub(hospital).listJobs(ListJobsRequest.getDefaultInstance()));
        assertEquals(Status.Code.PERMISSION_DENIED, asAdmin.getStatus().getCode());
        assertTrue(asAdmin.getStatus().getDescription().contains("may not call medfed.v1.AdminService; it needs a admin"
            + " certificate"), asAdmin.getStatus().getDescription());

        NodeAgent posing = federation.agentNotAwaited("alice", Blobs.dataset("expression", 1, 20, 10, 20), aliceKit);
        String reason = posing.stopped().get(20, TimeUnit.SECONDS);
        assertTrue(reason.contains("may not call medfed.v1.FederationService; it needs a hospital certificate"), reason);
      } finally {
        hospital.shutdownNow();
        admin.shutdownNow();
      }
    }
  }

  @Test
  void revokingAConnectedHospital_closesItsSessionWithinSecondsAndRefusesItsReturn() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      NodeAgent agent = federation.agent("hospital-r", Blobs.dataset("expression", 1, 20, 10, 20));
      assertTrue(federation.coordinator.nodes().connectedIds().contains("hospital-r"));

      federation.ca.revoke("hospital-r", Role.HOSPITAL, "laptop stolen", Instant.now());

      String reason = agent.stopped().get(15, TimeUnit.SECONDS);
      assertTrue(reason.contains("was revoked at"), reason);
      assertTrue(reason.contains("ask the consortium operator for a new startup kit"), reason);
      assertFalse(federation.coordinator.nodes().connectedIds().contains("hospital-r"));
      assertTrue(auditText(federation).contains("open session closed"), auditText(federation));
    }
  }

  @Test
  void expiredCertificate_isRefusedWithTheDateAndWhatToDo() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      Instant past = Instant.now().minus(Duration.ofDays(30));
      TlsFiles expired = federation.issue("hospital-old", Role.HOSPITAL, List.of(), past.minus(Duration.ofDays(365)), past);
      // The agent checks its own certificate before dialling ...
      assertTrue(TlsProblems.ownCertificateProblem(expired.load().identity(), Instant.now()).orElseThrow()
          .contains("expired at"));
      // ... and the coordinator refuses it on its side too.
      NodeAgent agent = federation.agentNotAwaited("hospital-old", Blobs.dataset("expression", 1, 20, 10, 20), expired);
      String reason = agent.stopped().get(20, TimeUnit.SECONDS);
      assertTrue(reason.contains("expired at " + past.truncatedTo(ChronoUnit.SECONDS)), reason);
      assertTrue(auditText(federation).contains("expired at"));
    }
  }

  @Test
  void coordinatorUnderAnotherName_isRefusedByTheAgentWithTheNameToCheck() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      TlsFiles files = federation.issue("hospital-a", Role.HOSPITAL, List.of());
      ManagedChannel channel = Tls.channel("127.0.0.1", federation.coordinator.port(), files.load())
          .overrideAuthority("fl.wrong-name.example:" + federation.coordinator.port()).build();
      try {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> AdminServiceGrpc
            .newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).listJobs(ListJobsRequest.getDefaultInstance()));
        String explained = TlsProblems.explain(e.getStatus(), "fl.wrong-name.example").orElseThrow();
        assertTrue(explained.contains("not for that name"), explained);
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Test
  void severalCoordinatorAddresses_eachNameIsChecked_andTheAgentAndAdminsUseTheOneWhoseCertificateMatches()
      throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      int port = federation.coordinator.port();
      // The first address reaches the coordinator under a name its certificate does not carry, as a
      // second coordinator would whose kit was made for another host.
      CoordinatorAddress wrongName = new CoordinatorAddress("fl.wrong-name.example", port);
      List<CoordinatorAddress> addresses = List.of(wrongName, new CoordinatorAddress("127.0.0.1", port));
      TlsFiles kit = federation.kit("hospital-a");

      LocalDataset data = Blobs.dataset("expression", 1, 60, 40, 20);
      CoordinatorChannels agentChannels = CoordinatorChannels.open(addresses, dialling(port, kit));
      try (NodeAgent agent = new NodeAgent(Federation.agentConfig("hospital-a", data, port,
          federation.stateDir("hospital-a"), true, kit).withCoordinators(addresses), agentChannels, List.of(data),
          new Dl4jTrainer())) {
        agent.start();
        agent.connected().orTimeout(30, TimeUnit.SECONDS).join();
        assertEquals("127.0.0.1:" + port, agentChannels.current());
      }

      TlsFiles adminKit = federation.issue("alice", Role.ADMIN, List.of());
      CoordinatorChannels admin = CoordinatorChannels.open(addresses, dialling(port, adminKit));
      CoordinatorChannels wrongOnly = CoordinatorChannels.open(List.of(wrongName), dialling(port, adminKit));
      try {
        admin.onActive(channel -> AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
            .listJobs(ListJobsRequest.getDefaultInstance()));
        assertEquals("127.0.0.1:" + port, admin.current());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> wrongOnly.onActive(channel ->
            AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .listJobs(ListJobsRequest.getDefaultInstance())));
        String explained = TlsProblems.explain(e.getStatus(), wrongName.toString()).orElseThrow();
        assertTrue(explained.contains("not for that name"), explained);
      } finally {
        admin.shutdownNow();
        wrongOnly.shutdownNow();
      }
    }
  }

  /** Dials the coordinator on 127.0.0.1:{@code port} as if at each address, checking the address's name. */
  private static CoordinatorChannels.Dialer dialling(int port, TlsFiles kit) throws IOException {
    TlsFiles.Material material = kit.load();
    return address -> Tls.channel("127.0.0.1", port, material).overrideAuthority(address.toString()).build();
  }

  @Test
  void unapprovedHospital_isLeftOutAndAuditsTheRefusal_approvingLetsTheNextJobRunThere() throws Exception {
    try (Federation federation = new Federation(dataDir)) {
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 40, 20, 20));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, 40, 20, 20));
      federation.agentAwaitingApproval("hospital-c", Blobs.dataset("expression", 3, 40, 20, 20));

      String first = federation.submit(JOB.formatted(2)).getJobId();
      federation.watch(first, Duration.ofMinutes(2));
      JobDetail detail = federation.job(first);

      assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
      assertEquals(List.of("hospital-a", "hospital-b"), detail.getRounds(0).getParticipantsList().stream().sorted().toList());
      String digest = detail.getSummary().getDigest();
      NodeApproval c = detail.getApprovalsList().stream().filter(a -> a.getNodeId().equals("hospital-c")).findFirst()
          .orElseThrow();
      assertEquals("pending", c.getState());
      assertTrue(c.getReason().contains("medfed-agent approve --config"), c.getReason());
      ApprovalStore store = new ApprovalStore(federation.stateDir("hospital-c"));
      assertTrue(store.read().pending().containsKey(digest));
      String cAudit = Files.readString(federation.stateDir("hospital-c").resolve("audit.log"));
      assertTrue(cAudit.contains("\"type\":\"JOB_REFUSED\"") && cAudit.contains(digest), cAudit);
      assertTrue(AuditVerifier.verify(federation.stateDir("hospital-c").resolve("audit.log")).intact());

      store.decide(digest.substring(0, 10), ApprovalStore.Verdict.APPROVED, "dr-operator", "");
      String second = federation.submit(JOB.formatted(3)).getJobId();
      federation.watch(second, Duration.ofMinutes(2));
      JobDetail next = federation.job(second);

      assertEquals(digest, next.getSummary().getDigest());
      assertEquals(JobState.SUCCEEDED, next.getSummary().getState(), next.getSummary().getMessage());
      assertEquals(List.of("hospital-a", "hospital-b", "hospital-c"),
          next.getRounds(0).getParticipantsList().stream().sorted().toList());
      AuditVerifier.Result coordinatorAudit = AuditVerifier.verify(federation.coordinator.auditLog());
      assertTrue(coordinatorAudit.intact());
      String text = auditText(federation);
      for (String type : List.of("JOB_SUBMITTED", "JOB_PENDING", "JOB_APPROVED", "ROUND_STARTED", "ROUND_COMPLETED")) {
        assertTrue(text.contains("\"type\":\"" + type + "\""), type + " missing from " + text);
      }
    }
  }

  private static String auditText(Federation federation) throws IOException {
    return Files.readString(federation.coordinator.auditLog());
  }
}
