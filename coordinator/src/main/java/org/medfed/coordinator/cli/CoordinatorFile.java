package org.medfed.coordinator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.coordinator.store.Database;
import org.medfed.trust.config.YamlConfig;
import org.medfed.wire.ChunkedPayload;

/**
 * {@code coordinator.yaml}, as `medfed provision` writes it; relative paths resolve against its folder.
 *
 * @param store empty for SQLite in the data folder; {@code store: {url, user, password_file}} otherwise
 * @param http where the dashboard and /metrics listen; empty when {@code http: false} turns them off
 * @param leaseTtl {@code lease_ttl_seconds}: how long the store's lease lasts unrenewed
 * @param chunkSize {@code chunk_size_kib}, in bytes: the size of the chunks models and updates stream in
 */
record CoordinatorFile(int port, String bind, Path dataDir, Optional<CoordinatorConfig.Security> security,
    Optional<Database.Settings> store, Optional<HostPort> http, Duration leaseTtl, int chunkSize) {
  private static final Set<String> FIELDS = Set.of("port", "bind", "data_dir", "tls", "store", "http",
      "lease_ttl_seconds", "chunk_size_kib");
  /** Below this, per-chunk overhead (a message, a hash) dominates. */
  static final int MIN_CHUNK_KIB = 16;
  /** A chunk and its header must fit gRPC's default 4 MiB message limit, which agents keep. */
  static final int MAX_CHUNK_KIB = 3 * 1024;
  private static final Set<String> STORE_FIELDS = Set.of("url", "user", "password_file");
  private static final Set<String> HTTP_FIELDS = Set.of("port", "bind");
  /** Loopback by default: the dashboard has no login, so reaching it from elsewhere is a deliberate choice. */
  static final HostPort DEFAULT_HTTP = new HostPort("127.0.0.1", 8080);

  static CoordinatorFile plaintext() {
    return new CoordinatorFile(7443, "0.0.0.0", Path.of("medfed-data"), Optional.empty(), Optional.empty(),
        Optional.of(DEFAULT_HTTP), CoordinatorConfig.DEFAULT_LEASE_TTL, ChunkedPayload.DEFAULT_CHUNK_SIZE);
  }

  static CoordinatorFile load(Path file) {
    JsonNode root = YamlConfig.read(file, FIELDS);
    Path base = file.toAbsolutePath().getParent();
    JsonNode tls = root.get("tls");
    CoordinatorConfig.Security security = new CoordinatorConfig.Security(YamlConfig.tlsFiles(file, tls),
        YamlConfig.path(file, tls, "revocation_list"), Duration.ofSeconds(1));
    return new CoordinatorFile(root.path("port").asInt(7443), root.path("bind").asText("0.0.0.0"),
        base.resolve(root.path("data_dir").asText("data")).normalize(), Optional.of(security),
        store(file, root.get("store")), http(file, root.get("http")), leaseTtl(file, root.get("lease_ttl_seconds")),
        chunkSize(file, root.get("chunk_size_kib")));
  }

  private static int chunkSize(Path file, JsonNode kib) {
    if (kib == null) {
      return ChunkedPayload.DEFAULT_CHUNK_SIZE;
    }
    if (!kib.isIntegralNumber() || !kib.canConvertToInt() || kib.asInt() < MIN_CHUNK_KIB
        || kib.asInt() > MAX_CHUNK_KIB) {
      throw new IllegalArgumentException(file + ": chunk_size_kib must be a whole number of KiB from " + MIN_CHUNK_KIB
          + " to " + MAX_CHUNK_KIB + " (a chunk must fit gRPC's 4 MiB message limit), got '" + kib.asText()
          + "' (default " + (ChunkedPayload.DEFAULT_CHUNK_SIZE >> 10) + ")");
    }
    return kib.asInt() << 10;
  }

  private static Duration leaseTtl(Path file, JsonNode seconds) {
    if (seconds == null) {
      return CoordinatorConfig.DEFAULT_LEASE_TTL;
    }
    if (!seconds.canConvertToInt() || !seconds.isIntegralNumber() || seconds.asInt() < 1) {
      throw new IllegalArgumentException(file + ": lease_ttl_seconds must be a whole number of seconds >= 1, got '"
          + seconds.asText() + "' (default " + CoordinatorConfig.DEFAULT_LEASE_TTL.toSeconds() + ")");
    }
    return Duration.ofSeconds(seconds.asInt());
  }

  private static Optional<Database.Settings> store(Path file, JsonNode store) {
    if (store == null) {
      return Optional.empty();
    }
    if (!store.isObject() || !store.hasNonNull("url")) {
      throw new IllegalArgumentException(file + ": 'store' must be a mapping with url (jdbc:postgresql://host/db),"
          + " and optionally user and password_file");
    }
    YamlConfig.checkKnown(file, "store.", store, STORE_FIELDS);
    try {
      return Optional.of(new Database.Settings(store.get("url").asText(),
          Optional.ofNullable(store.get("user")).map(JsonNode::asText),
          Optional.ofNullable(store.get("password_file")).map(p -> file.toAbsolutePath().getParent()
              .resolve(p.asText()).normalize())));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage());
    }
  }

  private static Optional<HostPort> http(Path file, JsonNode http) {
    if (http == null) {
      return Optional.of(DEFAULT_HTTP);
    }
    if (http.isBoolean() && !http.asBoolean()) {
      return Optional.empty();
    }
    if (!http.isObject()) {
      throw new IllegalArgumentException(file + ": 'http' must be a mapping with port and bind, or false");
    }
    YamlConfig.checkKnown(file, "http.", http, HTTP_FIELDS);
    return Optional.of(new HostPort(http.path("bind").asText(DEFAULT_HTTP.host()),
        http.path("port").asInt(DEFAULT_HTTP.port())));
  }
}
