package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.CoordinatorConfig;

/**
 * The coordinator's dashboard in a real headless Chromium while a job runs: the job, its rounds (the
 * kept one marked), the nodes, each hospital's evaluation beside its local-only baseline, and a chart
 * that grows as rounds complete, read from the rendered page. The Prometheus
 * endpoint beside it is scraped in the same run.
 */
class DashboardTest {
  private static final String JOB = """
      name: dashboard-demo
      dataset: expression
      model: {architecture: mlp, hidden: [16]}
      input_shape: [20]
      num_classes: 3
      rounds: 40
      min_nodes: 3
      batch_size: 16
      learning_rate: 0.01
      local_baseline: true
      deadlines: {selection: 30s, training: 60s, evaluation: 30s}
      """;

  @TempDir Path dir;

  @Test
  void aPersonWatchingTheDashboardSeesTheJobItsRoundsNodesAndAGrowingChart() throws Exception {
    Optional<Path> chromium = HeadlessChromium.binary();
    Assumptions.assumeTrue(chromium.isPresent(), "no chromium on PATH; on Debian: apt-get install chromium"
        + " (.ci/run installs it). Skipping the dashboard browser test.");
    CoordinatorConfig config = CoordinatorConfig.defaults(dir.resolve("coordinator"))
        .withHttp(new InetSocketAddress("127.0.0.1", 0));
    try (Federation federation = new Federation(dir.resolve("coordinator"), config)) {
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 60, 40, 20));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, 60, 40, 20));
      federation.agent("hospital-c", Blobs.dataset("expression", 3, 60, 40, 20));
      String jobId = federation.submit(JOB).getJobId();
      String base = "http://" + federation.coordinator.httpAddress().orElseThrow();
      Files.createDirectories(dir.resolve("browser/profile"));

      try (HeadlessChromium browser = HeadlessChromium.open(chromium.get(), base + "/",
          dir.resolve("browser/profile"))) {
        browser.await("document.title", v -> v.asText().equals("medfed coordinator"), Duration.ofSeconds(30));
        // The job's row, as shown: id, name and that it is running.
        JsonNode row = browser.await("(() => { const r = document.querySelector('#jobs tr[data-job=\"" + jobId
            + "\"]'); return r ? r.innerText : ''; })()", v -> v.asText().contains("RUNNING"), Duration.ofSeconds(60));
        assertTrue(row.asText().contains("dashboard-demo"), row.asText());
        assertTrue(row.asText().contains("on"), "secure aggregation column: " + row.asText());

        // Nodes with their datasets.
        JsonNode nodes = browser.evaluate("document.querySelector('#nodes').innerText");
        for (String node : new String[] {"hospital-a", "hospital-b", "hospital-c"}) {
          assertTrue(nodes.asText().contains(node), nodes.asText());
        }
        assertTrue(nodes.asText().contains("expression (genomic, 60 train, 40 test)"), nodes.asText());
        assertTrue(nodes.asText().contains("connected"), nodes.asText());

        // The chart has points for completed rounds, and gains more while the job runs.
        int first = browser.await("Number(document.querySelector('#chart').dataset.rounds || 0)",
            v -> v.asInt() >= 1, Duration.ofSeconds(90)).asInt();
        int later = browser.await("Number(document.querySelector('#chart').dataset.rounds || 0)",
            v -> v.asInt() > first, Duration.ofSeconds(90)).asInt();
        assertTrue(later > first);
        int points = browser.evaluate("document.querySelectorAll('#chart polyline[data-metric=\"eval_accuracy\"]')"
            + ".length ? document.querySelector('#chart polyline[data-metric=\"eval_accuracy\"]')"
            + ".getAttribute('points').trim().split(' ').length : 0").asInt();
        assertTrue(points >= later, "eval_accuracy line has " + points + " points for " + later + " rounds");
        String legend = browser.evaluate("document.querySelector('#legend').innerText").asText();
        assertTrue(legend.contains("eval_accuracy"), legend);
        int roundRows = browser.evaluate("document.querySelectorAll('#rounds tbody tr').length").asInt();
        assertTrue(roundRows >= first, "rounds table rows: " + roundRows);
        // The round the job keeps (model_selection, by eval_accuracy) is marked as such.
        String kept = browser.await("(() => { const r = document.querySelector('#rounds tbody tr.best');"
            + " return r ? r.innerText : ''; })()", v -> !v.asText().isEmpty(), Duration.ofSeconds(60)).asText();
        assertTrue(kept.contains("(kept, best eval_accuracy)"), kept);
        // Each hospital's own evaluation, and what federation bought it over its local-only baseline.
        String hospitals = browser.await("document.querySelector('#hospital-evaluations tbody').innerText",
            v -> v.asText().contains("hospital-c") && !v.asText().contains("no baseline"), Duration.ofSeconds(90))
            .asText();
        for (String node : new String[] {"hospital-a", "hospital-b", "hospital-c"}) {
          assertTrue(hospitals.contains(node), hospitals);
        }
        assertTrue(hospitals.matches("(?s).*accuracy [+-][0-9].*"), "federated - local-only column: " + hospitals);
        browser.screenshot(Path.of("target", "dashboard.png"));

        // The same coordinator's Prometheus metrics.
        HttpClient http = HttpClient.newHttpClient();
        String metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(value(metrics, "medfed_rounds_completed_total") >= first, metrics);
        assertEquals(3.0, value(metrics, "medfed_nodes_connected"), metrics);
        assertTrue(value(metrics, "medfed_received_bytes_total") > 10_000, metrics);
        assertTrue(value(metrics, "medfed_sent_bytes_total") > 10_000, metrics);
        assertTrue(metrics.contains("medfed_stage_duration_seconds_count{stage=\"secagg_masked_input\"}"), metrics);
        assertEquals(1.0, value(metrics, "medfed_jobs{status=\"running\"}"), metrics);

        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(base + "/api/jobs"))
            .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode(), "the dashboard is read-only");
      } finally {
        federation.coordinator.jobs().find(jobId).ifPresent(job -> job.cancel("test over"));
      }
    }
  }

  private static double value(String metrics, String name) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(metrics);
    if (!m.find()) {
      throw new AssertionError(name + " is not in the scrape:\n" + metrics);
    }
    return Double.parseDouble(m.group(1));
  }
}
