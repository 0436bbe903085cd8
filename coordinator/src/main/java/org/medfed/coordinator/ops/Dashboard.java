package org.medfed.coordinator.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.medfed.coordinator.approval.Approvals;
import org.medfed.coordinator.job.Job;
import org.medfed.coordinator.job.RoundRecord;
import org.medfed.coordinator.round.JobManager;
import org.medfed.coordinator.session.NodeDirectory;
import org.medfed.coordinator.session.NodeView;
import org.medfed.coordinator.store.StorageMonitor;
import org.medfed.coordinator.store.StorageProblem;
import org.medfed.telemetry.OpsEndpoint;

/**
 * The read-only web dashboard: one page ({@code dashboard.html}) that polls JSON resources,
 * {@code /api/jobs}, {@code /api/jobs/ID}, {@code /api/nodes}, {@code /api/storage} (whether the
 * coordinator can write its state, and if not, where and why: jobs are paused then) and
 * {@code /api/coordinator} (which coordinator holds the store's lease and drives the jobs: this
 * one, as only the active coordinator serves the dashboard). It shows what {@code medfed show}
 * and {@code medfed nodes} show (job state, per-round global metrics, nodes and their datasets) and
 * never an individual update, which the coordinator does not have.
 */
public final class Dashboard {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final JobManager jobs;
  private final NodeDirectory nodes;
  private final Approvals approvals;
  private final StorageMonitor storage;
  private final Supplier<String> activeHolder;
  private final String page;

  /** @param activeHolder the store's lease as it stands: who holds it, its token and until when */
  public Dashboard(JobManager jobs, NodeDirectory nodes, Approvals approvals, StorageMonitor storage,
      Supplier<String> activeHolder) {
    this.storage = storage;
    this.activeHolder = activeHolder;
    this.jobs = jobs;
    this.nodes = nodes;
    this.approvals = approvals;
    try (InputStream in = Dashboard.class.getResourceAsStream("dashboard.html")) {
      page = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("dashboard.html is missing from the coordinator jar", e);
    }
  }

  public void mount(OpsEndpoint endpoint) {
    endpoint.handle("/api/jobs", exchange -> {
      String rest = exchange.getRequestURI().getPath().substring("/api/jobs".length());
      if (rest.isEmpty() || rest.equals("/")) {
        json(exchange, jobList());
        return;
      }
      Optional<Job> job = jobs.find(rest.substring(1));
      if (job.isEmpty()) {
        OpsEndpoint.respond(exchange, 404, "application/json", "{\"error\":\"no such job\"}");
      } else {
        json(exchange, detail(job.get()));
      }
    });
    endpoint.handle("/api/nodes", exchange -> json(exchange, nodeList()));
    endpoint.handle("/api/storage", exchange -> json(exchange, storageState()));
    endpoint.handle("/api/coordinator", exchange -> json(exchange, JSON.createObjectNode()
        .put("active", activeHolder.get())));
    endpoint.handle("/", exchange -> {
      if (!exchange.getRequestURI().getPath().equals("/")) {
        OpsEndpoint.respond(exchange, 404, "text/plain; charset=utf-8", "not found\n");
        return;
      }
      exchange.getResponseHeaders().set("Content-Security-Policy",
          "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'");
      OpsEndpoint.respond(exchange, 200, "text/html; charset=utf-8", page);
    });
  }

  private ArrayNode jobList() {
    ArrayNode list = JSON.createArrayNode();
    jobs.list().forEach(job -> list.add(summary(job)));
    return list;
  }

  private ObjectNode summary(Job job) {
    ObjectNode node = JSON.createObjectNode();
    node.put("id", job.id());
    node.put("name", job.spec().name());
    node.put("status", job.status().name());
    node.put("rounds_completed", job.roundsCompleted());
    node.put("rounds_total", job.spec().rounds());
    node.put("message", job.message());
    node.put("secure_aggregation", job.spec().secureAggregation().enabled());
    node.put("strategy", job.spec().strategy().name().name());
    node.put("dataset", job.spec().dataset());
    node.put("selection_metric", job.spec().selection().metric());
    job.bestRound().ifPresent(best -> node.put("best_round", best.round()));
    return node;
  }

  private ObjectNode detail(Job job) {
    ObjectNode node = summary(job);
    ArrayNode rounds = node.putArray("rounds");
    for (RoundRecord record : job.rounds()) {
      ObjectNode round = rounds.addObject();
      round.put("round", record.round());
      round.put("seconds", record.took().toMillis() / 1000.0);
      ArrayNode participants = round.putArray("participants");
      record.participants().forEach(participants::add);
      ObjectNode dropped = round.putObject("dropped");
      record.dropped().forEach(dropped::put);
      ObjectNode metrics = round.putObject("metrics");
      new TreeMap<>(record.metrics()).forEach(metrics::put);
      ObjectNode evaluations = round.putObject("evaluations");
      record.evaluations().forEach((hospital, values) -> new TreeMap<>(values).forEach(
          evaluations.putObject(hospital)::put));
    }
    ObjectNode answers = node.putObject("approvals");
    approvals.of(job.id()).forEach((nodeId, decision) -> answers.put(nodeId, Approvals.stateName(decision.state())));
    return node;
  }

  private ObjectNode storageState() {
    ObjectNode node = JSON.createObjectNode();
    Optional<StorageProblem> problem = storage.problem();
    node.put("writable", problem.isEmpty());
    node.put("audit_records_waiting", storage.auditRecordsWaiting());
    problem.ifPresent(p -> {
      node.put("problem", p.describe());
      node.put("location", p.location());
      p.usableBytes().ifPresent(free -> node.put("free_bytes", free));
      node.put("needed_bytes", p.neededBytes());
      node.put("since", p.since().toString());
    });
    return node;
  }

  private ArrayNode nodeList() {
    ArrayNode list = JSON.createArrayNode();
    for (NodeView view : nodes.all()) {
      ObjectNode node = list.addObject();
      node.put("id", view.nodeId());
      node.put("version", view.softwareVersion());
      node.put("connected", view.connected());
      view.connectedSince().ifPresent(since -> node.put("connected_since", since.toString()));
      node.put("last_seen", view.lastSeen().toString());
      ArrayNode datasets = node.putArray("datasets");
      view.datasets().forEach(datasets::add);
    }
    return list;
  }

  private static void json(com.sun.net.httpserver.HttpExchange exchange, Object body) throws IOException {
    OpsEndpoint.respond(exchange, 200, "application/json", JSON.writeValueAsString(body));
  }
}
