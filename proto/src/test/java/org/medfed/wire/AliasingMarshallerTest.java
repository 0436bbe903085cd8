package org.medfed.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.medfed.proto.v1.Chunk;
import org.medfed.proto.v1.FederationServiceGrpc;
import org.medfed.proto.v1.ModelDownloadRequest;

class AliasingMarshallerTest {
  /** What gRPC hands a marshaller: a stream that knows its length. */
  private static final class Received extends ByteArrayInputStream implements KnownLength {
    Received(byte[] bytes) {
      super(bytes);
    }
  }

  private static final MethodDescriptor<ModelDownloadRequest, Chunk> DOWNLOAD =
      AliasingMarshaller.responses(FederationServiceGrpc.getDownloadModelMethod(), Chunk.getDefaultInstance());

  private static byte[] encoded(Chunk chunk) throws IOException {
    try (InputStream in = DOWNLOAD.getResponseMarshaller().stream(chunk)) {
      return in.readAllBytes();
    }
  }

  @Test
  void parse_receivedChunks_reassembleIntoThePayload() throws IOException {
    byte[] data = new byte[10_000];
    new Random(3).nextBytes(data);
    ChunkedPayload payload = new ChunkedPayload(data, 4_096);
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);

    Optional<com.google.protobuf.ByteString> result = Optional.empty();
    for (int i = 0; i < payload.chunkCount(); i++) {
      Chunk parsed = DOWNLOAD.parseResponse(new Received(encoded(payload.chunk(i))));
      assertEquals(payload.chunk(i), parsed);
      result = assembler.accept(parsed);
    }

    assertArrayEquals(data, result.orElseThrow().toByteArray());
  }

  @Test
  void parse_aStreamOfUnknownLength_fallsBackToGrpcsOwnParser() throws IOException {
    Chunk chunk = new ChunkedPayload(new byte[] {1, 2, 3}, 16).chunk(0);

    assertEquals(chunk, DOWNLOAD.parseResponse(new ByteArrayInputStream(encoded(chunk))));
  }

  @Test
  void parse_garbage_isAnInternalStatusSayingSo() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> DOWNLOAD.parseResponse(new Received(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff})));

    assertEquals(Status.Code.INTERNAL, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().startsWith("invalid protobuf message"), e.getStatus().getDescription());
  }
}
