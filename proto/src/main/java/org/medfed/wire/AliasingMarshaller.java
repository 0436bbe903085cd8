package org.medfed.wire;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;

/**
 * Parses each received message from one fresh array that its bytes fields then view, instead of
 * copying them out: gRPC's own protobuf marshaller reads a message into a buffer it reuses, so it
 * must copy every bytes field again, a second pass over each chunk's data on the receiver (issue 16
 * item 3). Messages are encoded as gRPC's own marshaller encodes them. The array is the message's
 * only copy, never written after parsing, so its views are as immutable as any ByteString.
 */
public final class AliasingMarshaller<T extends Message> implements MethodDescriptor.Marshaller<T> {
  private final MethodDescriptor.Marshaller<T> plain;
  private final Parser<T> parser;

  @SuppressWarnings("unchecked") // a message's parser parses its own type
  private AliasingMarshaller(T defaultInstance) {
    this.plain = ProtoUtils.marshaller(defaultInstance);
    this.parser = (Parser<T>) defaultInstance.getParserForType();
  }

  /** {@code method} with its responses parsed by an aliasing marshaller: for a client. */
  public static <Q, A extends Message> MethodDescriptor<Q, A> responses(MethodDescriptor<Q, A> method,
      A defaultInstance) {
    return method.toBuilder().setResponseMarshaller(new AliasingMarshaller<>(defaultInstance)).build();
  }

  /**
   * {@code service} with {@code method}'s requests parsed by an aliasing marshaller: for a server.
   * Its other methods are bound as they were.
   */
  public static <Q extends Message, A> ServerServiceDefinition requests(ServerServiceDefinition service,
      MethodDescriptor<Q, A> method, Q defaultInstance) {
    ServerServiceDefinition.Builder rebound = ServerServiceDefinition.builder(service.getServiceDescriptor().getName());
    for (ServerMethodDefinition<?, ?> each : service.getMethods()) {
      if (each.getMethodDescriptor().getFullMethodName().equals(method.getFullMethodName())) {
        @SuppressWarnings("unchecked") // the same method, so the same types
        ServerMethodDefinition<Q, A> same = (ServerMethodDefinition<Q, A>) each;
        rebound.addMethod(ServerMethodDefinition.create(same.getMethodDescriptor().toBuilder()
            .setRequestMarshaller(new AliasingMarshaller<>(defaultInstance)).build(), same.getServerCallHandler()));
      } else {
        rebound.addMethod(each);
      }
    }
    return rebound.build();
  }

  @Override
  public InputStream stream(T value) {
    return plain.stream(value);
  }

  @Override
  public T parse(InputStream stream) {
    if (!(stream instanceof KnownLength)) {
      return plain.parse(stream);
    }
    try {
      byte[] bytes = readFully(stream, stream.available());
      // A ByteString's own coded input knows its array is not written again, which aliasing requires.
      CodedInputStream input = UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
      input.enableAliasing(true);
      input.setSizeLimit(Integer.MAX_VALUE);  // gRPC's inbound message limit has already applied
      T message = parser.parseFrom(input);
      input.checkLastTagWas(0);
      return message;
    } catch (InvalidProtocolBufferException e) {
      throw Status.INTERNAL.withDescription("invalid protobuf message: " + e.getMessage()).withCause(e)
          .asRuntimeException();
    } catch (IOException e) {
      throw Status.INTERNAL.withDescription("could not read a received message: " + e.getMessage()).withCause(e)
          .asRuntimeException();
    }
  }

  /** Straight into one array of the known size ({@link InputStream#readNBytes(int)} would gather and copy). */
  private static byte[] readFully(InputStream stream, int size) throws IOException {
    byte[] bytes = new byte[size];
    for (int read = 0; read < size; ) {
      int n = stream.read(bytes, read, size - read);
      if (n < 0) {
        throw new IOException("the message ended after " + read + " of its " + size + " bytes");
      }
      read += n;
    }
    return bytes;
  }
}
