package org.medfed.examples.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.medfed.trust.tls.TlsFiles;

/**
 * The baselines a transfer through the coordinator is compared with: the same bytes between two
 * loopback sockets in this JVM, in 1 MiB writes, over plain TCP and over mutual TLS (the JDK's
 * {@link SSLSocket} with the consortium's own certificates), with the CPU both ends spent.
 */
final class RawLoopback {
  private static final int WRITE = 1 << 20;
  private static final OperatingSystemMXBean OS =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  /** The best of a few runs: MB/s, and this process's CPU seconds per GB moved in that run (both ends). */
  record Figure(double megabytesPerSecond, double cpuSecondsPerGigabyte) {}

  /** Opens the two ends of one connection. */
  private interface Sockets {
    ServerSocket listen() throws IOException;

    Socket dial(int port) throws IOException;
  }

  private RawLoopback() {}

  static Figure plain(long bytes) throws Exception {
    return best(bytes, new Sockets() {
      @Override
      public ServerSocket listen() throws IOException {
        return new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
      }

      @Override
      public Socket dial(int port) throws IOException {
        return new Socket(InetAddress.getLoopbackAddress(), port);
      }
    });
  }

  /** Mutual TLS as the coordinator requires it: the server presents {@code server}'s kit and demands the client's. */
  static Figure mutualTls(long bytes, TlsFiles.Material server, TlsFiles.Material client) throws Exception {
    SSLContext serverContext = context(server);
    SSLContext clientContext = context(client);
    return best(bytes, new Sockets() {
      @Override
      public ServerSocket listen() throws IOException {
        SSLServerSocket socket = (SSLServerSocket) serverContext.getServerSocketFactory()
            .createServerSocket(0, 1, InetAddress.getLoopbackAddress());
        socket.setNeedClientAuth(true);
        return socket;
      }

      @Override
      public Socket dial(int port) throws IOException {
        SSLSocket socket = (SSLSocket) clientContext.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
            port);
        socket.startHandshake();
        return socket;
      }
    });
  }

  /** The suite the JDK negotiates with these certificates, for the report. */
  static String cipherSuite(TlsFiles.Material server, TlsFiles.Material client) throws Exception {
    SSLContext serverContext = context(server);
    try (SSLServerSocket listener = (SSLServerSocket) serverContext.getServerSocketFactory()
        .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      listener.setNeedClientAuth(true);
      CompletableFuture<Void> accepted = CompletableFuture.runAsync(() -> {
        try (SSLSocket socket = (SSLSocket) listener.accept()) {
          socket.startHandshake();
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      try (SSLSocket socket = (SSLSocket) context(client).getSocketFactory()
          .createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
        socket.startHandshake();
        String suite = socket.getSession().getProtocol() + " " + socket.getSession().getCipherSuite();
        accepted.get(1, TimeUnit.MINUTES);
        return suite;
      }
    }
  }

  private static SSLContext context(TlsFiles.Material material) throws GeneralSecurityException, IOException {
    char[] password = "bench".toCharArray();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("self", material.privateKey(), password, new Certificate[] {material.certificate()});
    KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, password);
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("ca", material.ca());
    TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
    return context;
  }

  private static Figure best(long bytes, Sockets sockets) throws Exception {
    Figure best = new Figure(0, Double.NaN);
    byte[] block = new byte[WRITE];
    new Random(3).nextBytes(block);
    for (int attempt = 0; attempt < 3; attempt++) {
      try (ServerSocket server = sockets.listen()) {
        CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
          try (Socket socket = server.accept(); InputStream in = socket.getInputStream()) {
            byte[] buffer = new byte[WRITE];
            long total = 0;
            for (int n; (n = in.read(buffer)) > 0; ) {
              total += n;
            }
            return total;
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        });
        long cpu = OS.getProcessCpuTime();
        long started = System.nanoTime();
        try (Socket socket = sockets.dial(server.getLocalPort()); OutputStream out = socket.getOutputStream()) {
          for (long sent = 0; sent < bytes; sent += block.length) {
            out.write(block, 0, (int) Math.min(block.length, bytes - sent));
          }
        }
        long total = received.get(5, TimeUnit.MINUTES);
        double seconds = (System.nanoTime() - started) / 1e9;
        double cpuSeconds = (OS.getProcessCpuTime() - cpu) / 1e9;
        if (total / 1e6 / seconds > best.megabytesPerSecond()) {
          best = new Figure(total / 1e6 / seconds, cpuSeconds / (total / 1e9));
        }
      }
    }
    return best;
  }
}
