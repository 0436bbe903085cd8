package org.medfed.examples.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The demo's whole path on a small scale: separate coordinator and agent processes on loopback, a
 * genomic job, baselines and the JSON report. The full-size demo's accuracy targets are checked by
 * running the README's demo command (see docs/benchmarks.md), not here.
 */
class DemoSmokeTest {
  @TempDir Path dir;

  @Test
  void demo_twoHospitalsTwoRounds_writesTheReport() throws Exception {
    Path report = dir.resolve("report.json");

    int exit = new CommandLine(new DemoMain()).execute("--hospitals", "2", "--rounds", "2", "--samples", "60",
        "--tasks", "genomic", "--work-dir", dir.resolve("work").toString(), "--report", report.toString());

    assertEquals(0, exit);
    JsonNode task = new ObjectMapper().readTree(report.toFile()).get("tasks").get(0);
    assertEquals("genomic", task.get("task").asText());
    assertEquals("accuracy", task.get("metric").asText());
    assertEquals(2, task.get("local").size());
    assertEquals(2, task.get("nodes").asInt());
    assertEquals(2, task.get("rounds").asInt());
    double federated = task.get("federated").asDouble();
    assertTrue(federated > 0.25 && federated <= 1.0, "federated accuracy " + federated);
    assertTrue(task.get("pooled").asDouble() > 0.25);
    assertTrue(task.has("secure_aggregation"));
    assertTrue(task.get("seconds").asDouble() > 0);
  }
}
