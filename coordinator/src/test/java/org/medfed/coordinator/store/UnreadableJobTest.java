package org.medfed.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.Coordinator;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.coordinator.job.JobEvent;
import org.medfed.coordinator.job.JobStatus;

/** A stored job this coordinator cannot read fails on its own; the coordinator still starts. */
class UnreadableJobTest {
  @TempDir Path dir;

  @Test
  void aRunningJobWithAnInvalidStoredDocument_isFailedWithTheReason_andTheCoordinatorStarts() throws Exception {
    try (Database db = Database.open(Database.Settings.embedded(dir))) {
      JobStore store = new JobStore(db);
      store.insert("broken-1", "broken", "{\"name\": \"broken\", \"rounds\": 0}", "0".repeat(64), "alice",
          Instant.now());
      store.recorded(new JobEvent("broken-1", Instant.now(), 3, "TRAIN", "round 3 TRAIN", Map.of(),
          JobStatus.RUNNING));
    }

    try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.defaults(dir),
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)))) {
      assertTrue(coordinator.jobs().find("broken-1").isEmpty());
    }

    try (Database db = Database.open(Database.Settings.embedded(dir))) {
      JobStore.StoredJob job = new JobStore(db).loadAll().get(0);
      assertEquals(JobStatus.FAILED, job.status());
      assertTrue(job.message().startsWith("cannot resume after a restart: the stored job document is not valid"),
          job.message());
    }
  }
}
