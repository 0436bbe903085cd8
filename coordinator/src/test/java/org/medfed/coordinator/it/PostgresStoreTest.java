package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.coordinator.store.Database;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;
import org.medfed.proto.v1.ListNodesRequest;
import org.medfed.proto.v1.NodeInfo;
import org.medfed.testsupport.PostgresCluster;

/**
 * The job of {@link FederatedTrainingTest} (which runs on the embedded SQLite store) on a real
 * PostgreSQL server that the test starts itself; then a second coordinator on the same database
 * sees the finished job with all its rounds.
 */
class PostgresStoreTest {
  @TempDir Path dir;

  @Test
  void sameJobRunsOnPostgres_andASecondCoordinatorSeesItsRounds() throws Exception {
    Path bin = PostgresCluster.binariesOrSkip("the PostgreSQL store test");
    try (PostgresCluster postgres = PostgresCluster.start(bin)) {
      Database.Settings store = PostgresStores.settings(postgres);
      String jobId;
      try (Federation federation = new Federation(dir.resolve("first"),
          CoordinatorConfig.defaults(dir.resolve("first")).withStore(store))) {
        federation.agent("hospital-a", Blobs.dataset("expression", 1, 60, 40, 20));
        federation.agent("hospital-b", Blobs.dataset("expression", 2, 60, 40, 20));
        federation.agent("hospital-c", Blobs.dataset("expression", 3, 60, 40, 20));
        jobId = federation.submit(FederatedTrainingTest.JOB).getJobId();
        federation.watch(jobId, Duration.ofMinutes(3));
        JobDetail detail = federation.job(jobId);
        assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
        assertTrue(detail.getRounds(3).getMetricsOrThrow("eval_accuracy") > 0.6);
      }

      try (Connection db = DriverManager.getConnection(store.url(), PostgresCluster.SUPERUSER, postgres.password());
          Statement query = db.createStatement()) {
        assertEquals(4, count(query, "SELECT COUNT(*) FROM rounds WHERE job_id = '" + jobId + "'"));
        assertEquals(1, count(query, "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCEEDED'"));
        assertTrue(count(query, "SELECT COUNT(*) FROM audit_records WHERE type = 'ROUND_COMPLETED'") == 4);
        assertTrue(count(query, "SELECT COUNT(*) FROM job_events WHERE phase = 'SECAGG_UNMASKING'") == 4);
      }

      try (Federation second = new Federation(dir.resolve("second"),
          CoordinatorConfig.defaults(dir.resolve("second")).withStore(store))) {
        JobDetail restored = second.job(jobId);
        assertEquals(JobState.SUCCEEDED, restored.getSummary().getState());
        assertEquals(4, restored.getRoundsCount());
        // The hospitals of the first coordinator are known, as not connected to this one.
        var nodes = second.admin.listNodes(ListNodesRequest.getDefaultInstance()).getNodesList();
        assertEquals(List.of("hospital-a", "hospital-b", "hospital-c"),
            nodes.stream().map(NodeInfo::getNodeId).sorted().toList());
        assertTrue(nodes.stream().noneMatch(NodeInfo::getConnected), nodes.toString());
        assertTrue(nodes.get(0).getDatasetsList().contains("expression (genomic, 60 train, 40 test)"),
            nodes.toString());
      }
    }
  }

  private static long count(Statement query, String sql) throws Exception {
    try (ResultSet rows = query.executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }
}
