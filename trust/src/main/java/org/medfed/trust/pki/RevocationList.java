package org.medfed.trust.pki;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consortium's revocation list as a running process sees it: read from a CRL file signed by
 * the CA, re-read whenever the file changes (polled), so revoking needs no restart. A list whose
 * signature does not verify is refused and the previous one kept.
 */
public final class RevocationList implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RevocationList.class);

  private final Path file;
  private final X509Certificate ca;
  private final Consumer<RevocationList> onChange;
  private final ScheduledExecutorService poller;
  private volatile Map<BigInteger, Instant> revoked = Map.of();
  private FileTime seen;

  private RevocationList(Path file, X509Certificate ca, Consumer<RevocationList> onChange) {
    this.file = file;
    this.ca = ca;
    this.onChange = onChange;
    this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "medfed-revocation-watch");
      thread.setDaemon(true);
      return thread;
    });
  }

  /**
   * Loads {@code file} and re-reads it every {@code interval}; {@code onChange} runs after each
   * change (and not for the first load).
   */
  public static RevocationList watch(Path file, X509Certificate ca, Duration interval, Consumer<RevocationList> onChange)
      throws IOException {
    RevocationList list = new RevocationList(file, ca, onChange);
    list.reload(true);
    list.poller.scheduleWithFixedDelay(list::poll, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    return list;
  }

  /** An empty list that never changes, for plaintext development mode. */
  public static RevocationList none() {
    return new RevocationList(null, null, l -> { });
  }

  public Optional<Instant> revokedAt(BigInteger serial) {
    return Optional.ofNullable(revoked.get(serial));
  }

  public int size() {
    return revoked.size();
  }

  private void poll() {
    try {
      reload(false);
    } catch (IOException | RuntimeException e) {
      log.error("revocation list {} could not be re-read; the previous list ({} entries) stays in force: {}", file,
          revoked.size(), e.getMessage());
    }
  }

  private synchronized void reload(boolean first) throws IOException {
    if (!Files.exists(file)) {
      if (first) {
        log.warn("no revocation list at {} yet; no certificate is revoked until one is written there", file);
      }
      return;
    }
    FileTime modified = Files.getLastModifiedTime(file);
    if (modified.equals(seen)) {
      return;
    }
    X509CRL crl = Pem.readCrl(file);
    try {
      crl.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new IOException(file + " is not signed by the consortium CA (" + e.getMessage() + ")", e);
    }
    Map<BigInteger, Instant> entries = new TreeMap<>();
    if (crl.getRevokedCertificates() != null) {
      for (X509CRLEntry entry : crl.getRevokedCertificates()) {
        entries.put(entry.getSerialNumber(), entry.getRevocationDate().toInstant());
      }
    }
    seen = modified;
    boolean changed = !entries.equals(revoked);
    revoked = Map.copyOf(entries);
    if (changed && !first) {
      log.info("revocation list {} reloaded: {} certificates revoked", file, entries.size());
      onChange.accept(this);
    }
  }

  @Override
  public void close() {
    poller.shutdownNow();
  }
}
