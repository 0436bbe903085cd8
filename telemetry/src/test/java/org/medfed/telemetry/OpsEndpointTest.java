package org.medfed.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class OpsEndpointTest {
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void servesMetricsAndHealth_readOnly() throws Exception {
    PrometheusMeterRegistry registry = OpsEndpoint.newRegistry();
    Counter.builder("medfed.example").register(registry).increment(3);
    try (OpsEndpoint endpoint = OpsEndpoint.start(new InetSocketAddress("127.0.0.1", 0), registry)) {
      String base = "http://127.0.0.1:" + endpoint.address().getPort();
      HttpResponse<String> metrics = get(base + "/metrics");
      assertEquals(200, metrics.statusCode());
      assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
      assertTrue(metrics.body().contains("medfed_example_total 3.0"), metrics.body());
      assertEquals("ok\n", get(base + "/healthz").body());

      HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(405, post.statusCode());
    }
  }

  @Test
  void aPortInUse_isReportedWithTheAddressAndWhatToDo() throws Exception {
    try (OpsEndpoint first = OpsEndpoint.start(new InetSocketAddress("127.0.0.1", 0), OpsEndpoint.newRegistry())) {
      IOException e = assertThrows(IOException.class, () -> OpsEndpoint.start(first.address(),
          OpsEndpoint.newRegistry()));
      assertTrue(e.getMessage().contains(String.valueOf(first.address().getPort())), e.getMessage());
      assertTrue(e.getMessage().contains("is the port in use?"), e.getMessage());
    }
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
