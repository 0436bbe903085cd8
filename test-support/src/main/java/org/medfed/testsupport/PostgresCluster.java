package org.medfed.testsupport;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A private PostgreSQL cluster for one test: initdb in a temporary folder, a loopback port, a
 * password, stopped and deleted afterwards. PostgreSQL refuses to run as root, so under root the
 * server runs as the {@code postgres} user that Debian's package creates. The superuser is
 * {@link #SUPERUSER}, with {@link #password()} (also in {@link #passwordFile()}).
 */
public final class PostgresCluster implements AutoCloseable {
  public static final String SUPERUSER = "medfed";
  private static final String PASSWORD = "medfed-test-password";
  private final int port;
  private final Path root;
  private final Path bin;
  private final boolean asPostgresUser;

  private PostgresCluster(Path root, Path bin, int port, boolean asPostgresUser) {
    this.root = root;
    this.bin = bin;
    this.port = port;
    this.asPostgresUser = asPostgresUser;
  }

  /** The folder with initdb and pg_ctl, if PostgreSQL is installed. */
  public static Optional<Path> binaries() {
    List<Path> candidates = new ArrayList<>();
    try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
      versions.sorted(Comparator.reverseOrder()).forEach(v -> candidates.add(v.resolve("bin")));
    } catch (IOException e) {
      // Not Debian's layout; try PATH below.
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      candidates.add(Path.of(dir));
    }
    return candidates.stream().filter(d -> Files.isExecutable(d.resolve("initdb"))
        && Files.isExecutable(d.resolve("pg_ctl"))).findFirst();
  }

  /** The binaries, or the calling test is skipped, saying what to install. */
  public static Path binariesOrSkip(String test) {
    Optional<Path> bin = binaries();
    Assumptions.assumeTrue(bin.isPresent(), "PostgreSQL is not installed (initdb, pg_ctl); on Debian:"
        + " apt-get install postgresql. Skipping " + test + ".");
    return bin.get();
  }

  public static PostgresCluster start(Path bin) throws IOException, InterruptedException {
    boolean root = "root".equals(System.getProperty("user.name"));
    Path dir = Files.createTempDirectory("medfed-pg-");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    PostgresCluster cluster = new PostgresCluster(dir, bin, port, root);
    Files.writeString(dir.resolve("password"), PASSWORD + "\n");
    if (root) {
      cluster.run(List.of("chown", "-R", "postgres", dir.toString()), false);
    }
    cluster.run(List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", SUPERUSER,
        "--auth=scram-sha-256", "--pwfile=" + dir.resolve("password"), "-E", "UTF8", "--no-sync"), true);
    cluster.run(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l",
        dir.resolve("server.log").toString(), "-w", "-t", "60", "-o",
        "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dir + " -c fsync=off",
        "start"), true);
    return cluster;
  }

  public int port() {
    return port;
  }

  /** The JDBC URL of the {@code postgres} database. */
  public String url() {
    return url("postgres");
  }

  /** The JDBC URL of {@code database} in this cluster. */
  public String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  public String password() {
    return PASSWORD;
  }

  /** A file holding the superuser's password (and a newline), as a password_file setting names it. */
  public Path passwordFile() {
    return root.resolve("password");
  }

  /** A connection to {@code database} as the superuser. */
  public Connection connect(String database) throws SQLException {
    return DriverManager.getConnection(url(database), SUPERUSER, PASSWORD);
  }

  private void run(List<String> command, boolean asServerUser) throws IOException, InterruptedException {
    List<String> full = new ArrayList<>();
    if (asServerUser && asPostgresUser) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(command);
    Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(90, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException(String.join(" ", full) + " failed:\n" + output);
    }
  }

  @Override
  public void close() throws IOException {
    try {
      run(List.of(bin.resolve("pg_ctl").toString(), "-D", root.resolve("data").toString(), "-m", "immediate",
          "-w", "stop"), true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      try (Stream<Path> paths = Files.walk(root)) {
        for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
