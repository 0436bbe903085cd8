package org.medfed.coordinator.it;

import java.util.List;
import java.util.Optional;
import org.medfed.coordinator.store.Database;
import org.medfed.testsupport.PostgresCluster;

/** A coordinator's store in a test's {@link PostgresCluster}. */
final class PostgresStores {
  private PostgresStores() {}

  static Database.Settings settings(PostgresCluster postgres) {
    return new Database.Settings(postgres.url(), Optional.of(PostgresCluster.SUPERUSER),
        Optional.of(postgres.passwordFile()));
  }

  /** coordinator.yaml lines that put a coordinator's store in the cluster, with a lease of {@code ttlSeconds}. */
  static List<String> coordinatorConfig(PostgresCluster postgres, int ttlSeconds) {
    Database.Settings store = settings(postgres);
    return List.of("lease_ttl_seconds: " + ttlSeconds, "store:", "  url: " + store.url(),
        "  user: " + PostgresCluster.SUPERUSER, "  password_file: " + store.passwordFile().orElseThrow());
  }
}
