package org.medfed.telemetry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The small read-only HTTP endpoint of a coordinator or agent: {@code /metrics} in the Prometheus
 * text format, {@code /healthz}, and whatever pages the owner adds. GET only; nothing it serves
 * changes state. Uses the JDK's HTTP server: one more listening library would buy nothing here.
 */
public final class OpsEndpoint implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OpsEndpoint.class);

  private final HttpServer server;
  private final ExecutorService executor;
  private final PrometheusMeterRegistry registry;

  private OpsEndpoint(HttpServer server, ExecutorService executor, PrometheusMeterRegistry registry) {
    this.server = server;
    this.executor = executor;
    this.registry = registry;
  }

  /** A registry for the owner's meters, before the endpoint listens. */
  public static PrometheusMeterRegistry newRegistry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  /**
   * Listens on {@code address} (port 0 picks a free one) with {@code /metrics} and {@code /healthz}.
   *
   * @throws IOException naming the address when it cannot be bound
   */
  public static OpsEndpoint start(InetSocketAddress address, PrometheusMeterRegistry registry) throws IOException {
    HttpServer server;
    try {
      server = HttpServer.create(address, 16);
    } catch (IOException e) {
      throw new IOException("cannot serve metrics on " + address + ": " + e.getMessage()
          + " (is the port in use? choose another one or turn the endpoint off)", e);
    }
    ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
      Thread thread = new Thread(r, "medfed-http");
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(executor);
    OpsEndpoint endpoint = new OpsEndpoint(server, executor, registry);
    endpoint.handle("/metrics", exchange -> respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8",
        registry.scrape()));
    endpoint.handle("/healthz", exchange -> respond(exchange, 200, "text/plain; charset=utf-8", "ok\n"));
    server.start();
    return endpoint;
  }

  /** Serves GET requests under {@code path}; other methods get 405. */
  public void handle(String path, HttpHandler handler) {
    server.createContext(path, exchange -> {
      try (exchange) {
        if (!exchange.getRequestMethod().equals("GET")) {
          respond(exchange, 405, "text/plain; charset=utf-8", "read-only: GET only\n");
          return;
        }
        handler.handle(exchange);
      } catch (IOException | RuntimeException e) {
        log.warn("HTTP {} failed: {}", exchange.getRequestURI(), e.toString());
        if (exchange.getResponseCode() == -1) {
          respond(exchange, 500, "text/plain; charset=utf-8", "internal error: " + e.getMessage() + "\n");
        }
      }
    });
  }

  public static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
