package org.medfed.coordinator.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A real headless Chromium driven over the DevTools protocol (a WebSocket and JSON, no driver
 * binary): it loads a page and evaluates JavaScript in it, to read what a person would see.
 */
final class HeadlessChromium implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final WebSocket socket;
  private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
  private final AtomicInteger ids = new AtomicInteger();

  private HeadlessChromium(Process process, WebSocket socket) {
    this.process = process;
    this.socket = socket;
  }

  /** The browser binary, if one is installed. */
  static Optional<Path> binary() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
        Path candidate = Path.of(dir, name);
        if (Files.isExecutable(candidate)) {
          return Optional.of(candidate);
        }
      }
    }
    return Optional.empty();
  }

  /** Starts the browser on {@code url} and attaches to its page. */
  static HeadlessChromium open(Path binary, String url, Path profile) throws Exception {
    Process process = new ProcessBuilder(binary.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-port=0",
        "--user-data-dir=" + profile, "--window-size=1280,1000", url)
        .redirectErrorStream(true).redirectOutput(profile.resolveSibling("chromium.log").toFile()).start();
    // Chromium writes the port it chose into the profile folder.
    Path portFile = profile.resolve("DevToolsActivePort");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(portFile) || Files.readAllLines(portFile).isEmpty()) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new IllegalStateException("chromium did not start; see " + profile.resolveSibling("chromium.log"));
      }
      Thread.sleep(100);
    }
    int port = Integer.parseInt(Files.readAllLines(portFile).get(0).strip());
    HttpClient http = HttpClient.newHttpClient();
    String page = null;
    while (page == null) {
      JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/json/list")).build(), HttpResponse.BodyHandlers.ofString()).body());
      for (JsonNode target : targets) {
        if (target.path("type").asText().equals("page")) {
          page = target.get("webSocketDebuggerUrl").asText();
        }
      }
      if (page == null) {
        Thread.sleep(100);
      }
    }
    CompletableFuture<HeadlessChromium> self = new CompletableFuture<>();
    WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(page), new WebSocket.Listener() {
      private final StringBuilder buffer = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        buffer.append(data);
        if (last) {
          String message = buffer.toString();
          buffer.setLength(0);
          self.join().received(message);
        }
        webSocket.request(1);
        return null;
      }
    }).get(30, TimeUnit.SECONDS);
    HeadlessChromium browser = new HeadlessChromium(process, socket);
    self.complete(browser);
    return browser;
  }

  private void received(String message) {
    try {
      JsonNode node = JSON.readTree(message);
      if (node.has("id")) {
        CompletableFuture<JsonNode> waiting = pending.remove(node.get("id").asInt());
        if (waiting != null) {
          waiting.complete(node);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("not a DevTools message: " + message, e);
    }
  }

  /** Evaluates {@code expression} in the page and returns its JSON value. */
  JsonNode evaluate(String expression) throws Exception {
    ObjectNode params = JSON.createObjectNode().put("expression", expression).put("returnByValue", true)
        .put("awaitPromise", true);
    JsonNode response = call("Runtime.evaluate", params);
    if (response.path("result").has("exceptionDetails")) {
      throw new IllegalStateException("evaluating " + expression + " failed: " + response);
    }
    return response.path("result").path("result").path("value");
  }

  /** Saves what the page shows as a PNG, for a person to look at after the test. */
  void screenshot(Path file) throws Exception {
    JsonNode response = call("Page.captureScreenshot", JSON.createObjectNode().put("format", "png"));
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, Base64.getDecoder().decode(response.path("result").path("data").asText()));
  }

  private JsonNode call(String method, ObjectNode params) throws Exception {
    int id = ids.incrementAndGet();
    ObjectNode call = JSON.createObjectNode().put("id", id).put("method", method);
    call.set("params", params);
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    pending.put(id, answer);
    socket.sendText(JSON.writeValueAsString(call), true).get(10, TimeUnit.SECONDS);
    JsonNode response = answer.get(30, TimeUnit.SECONDS);
    if (response.has("error")) {
      throw new IllegalStateException(method + " failed: " + response);
    }
    return response;
  }

  /** Re-evaluates {@code expression} until {@code done} accepts its value; fails after {@code limit}. */
  JsonNode await(String expression, Predicate<JsonNode> done, Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    JsonNode value = evaluate(expression);
    while (!done.test(value)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("after " + limit.toSeconds() + " s the page still shows " + value + " for "
            + expression + "; page text: " + evaluate("document.body.innerText"));
      }
      Thread.sleep(250);
      value = evaluate(expression);
    }
    return value;
  }

  @Override
  public void close() {
    socket.abort();
    process.destroyForcibly();
  }
}
