package org.medfed.telemetry;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientStreamTracer;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerStreamTracer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Counts the bytes gRPC puts on and takes off the wire ({@code medfed_sent_bytes_total},
 * {@code medfed_received_bytes_total}), after compression and framing, so the numbers match what
 * a network operator sees.
 */
public final class WireBytes {
  private final Counter sent;
  private final Counter received;

  public WireBytes(MeterRegistry registry) {
    sent = Counter.builder("medfed.sent").baseUnit("bytes").description("Bytes sent over gRPC")
        .register(registry);
    received = Counter.builder("medfed.received").baseUnit("bytes").description("Bytes received over gRPC")
        .register(registry);
  }

  public ServerStreamTracer.Factory server() {
    return new ServerStreamTracer.Factory() {
      @Override
      public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        return new ServerStreamTracer() {
          @Override
          public void outboundWireSize(long bytes) {
            sent.increment(bytes);
          }

          @Override
          public void inboundWireSize(long bytes) {
            received.increment(bytes);
          }
        };
      }
    };
  }

  /** Counts a client channel's calls: {@code channelBuilder.intercept(wireBytes.clientInterceptor())}. */
  public ClientInterceptor clientInterceptor() {
    ClientStreamTracer.Factory factory = client();
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return next.newCall(method, options.withStreamTracerFactory(factory));
      }
    };
  }

  public ClientStreamTracer.Factory client() {
    return new ClientStreamTracer.Factory() {
      @Override
      public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
        return new ClientStreamTracer() {
          @Override
          public void outboundWireSize(long bytes) {
            sent.increment(bytes);
          }

          @Override
          public void inboundWireSize(long bytes) {
            received.increment(bytes);
          }
        };
      }
    };
  }
}
