package org.medfed.trust.tls;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import javax.net.ssl.SSLException;

/** Netty TLS contexts for both sides of mutual TLS in a consortium. */
public final class Tls {
  private Tls() {}

  /** The coordinator's side: presents its certificate and requires a consortium certificate from every client. */
  public static SslContext server(TlsFiles.Material material, SecurityEvents events) throws SSLException {
    return GrpcSslContexts.configure(SslContextBuilder.forServer(material.privateKey(), material.certificate()))
        .trustManager(new ConsortiumTrustManager(material.ca(), events))
        .clientAuth(ClientAuth.REQUIRE)
        .build();
  }

  /** A channel builder that dials {@code host:port} with mutual TLS, verifying the coordinator's name is {@code host}. */
  public static NettyChannelBuilder channel(String host, int port, TlsFiles.Material material) throws SSLException {
    return NettyChannelBuilder.forAddress(host, port).sslContext(client(material));
  }

  /**
   * An agent's or admin's side: presents its certificate and accepts only a coordinator certificate
   * from the consortium CA that is valid now and names the host dialled (gRPC checks the name).
   */
  public static SslContext client(TlsFiles.Material material) throws SSLException {
    return GrpcSslContexts.forClient()
        .keyManager(material.privateKey(), material.certificate())
        .trustManager(material.ca())
        .build();
  }
}
