package org.medfed.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.FloatBuffer;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.medfed.proto.v1.Chunk;

class ChunkAssemblerTest {
  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    new Random(7).nextBytes(bytes);
    return bytes;
  }

  @Test
  void accept_allChunksInOrder_returnsOriginalPayload() {
    byte[] data = randomBytes(10_001);
    ChunkedPayload payload = new ChunkedPayload(data, 1000);
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);

    Optional<ByteString> result = Optional.empty();
    for (int i = 0; i < payload.chunkCount(); i++) {
      result = assembler.accept(payload.chunk(i));
    }

    assertEquals(11, payload.chunkCount());
    assertArrayEquals(data, result.orElseThrow().toByteArray());
  }

  @Test
  void accept_corruptChunk_isRejectedAndCanBeResentFromThatIndex() {
    byte[] data = randomBytes(5000);
    ChunkedPayload payload = new ChunkedPayload(data, 1000);
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);
    assembler.accept(payload.chunk(0));
    assembler.accept(payload.chunk(1));
    Chunk good = payload.chunk(2);
    byte[] flipped = good.getData().toByteArray();
    flipped[17] ^= 1;
    Chunk corrupt = good.toBuilder().setData(ByteString.copyFrom(flipped)).build();

    ChunkAssembler.CorruptChunkException e =
        assertThrows(ChunkAssembler.CorruptChunkException.class, () -> assembler.accept(corrupt));

    assertEquals(2, e.index());
    assertEquals(2, assembler.nextIndex());
    Optional<ByteString> result = Optional.empty();
    for (int i = 2; i < payload.chunkCount(); i++) {
      result = assembler.accept(payload.chunk(i));
    }
    assertArrayEquals(data, result.orElseThrow().toByteArray());
  }

  @Test
  void accept_thousandsOfChunks_feedTheWholeDigestInOrder_evenWithACorruptChunkResentHalfWay() {
    byte[] data = randomBytes(300_007);
    ChunkedPayload payload = new ChunkedPayload(data, 100);
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);
    Chunk good = payload.chunk(1500);
    byte[] flipped = good.getData().toByteArray();
    flipped[0] ^= 1;

    Optional<ByteString> result = Optional.empty();
    for (int i = 0; i < payload.chunkCount(); i++) {
      if (i == 1500) {
        Chunk corrupt = good.toBuilder().setData(ByteString.copyFrom(flipped)).build();
        assertThrows(ChunkAssembler.CorruptChunkException.class, () -> assembler.accept(corrupt));
      }
      result = assembler.accept(payload.chunk(i));
    }

    assertEquals(3001, payload.chunkCount());
    assertArrayEquals(data, result.orElseThrow().toByteArray());
  }

  @Test
  void accept_payloadLargerThanLimit_isRefusedBeforeAllocating() {
    ChunkedPayload payload = new ChunkedPayload(randomBytes(4096), 1024);
    ChunkAssembler assembler = new ChunkAssembler(1000);

    ChunkAssembler.TransferException e =
        assertThrows(ChunkAssembler.TransferException.class, () -> assembler.accept(payload.chunk(0)));

    assertTrue(e.getMessage().contains("exceeds this receiver's limit of 1000 bytes"), e.getMessage());
  }

  @Test
  void accept_payloadBeyondWhatOneArrayHolds_isRefusedWithTheLimit_evenUnderAHigherReceiverLimit() {
    Chunk first = new ChunkedPayload(randomBytes(1024), 1024).chunk(0).toBuilder()
        .setTotalLength(3L << 30).setCount(3072).build();
    ChunkAssembler assembler = new ChunkAssembler(4L << 30);

    ChunkAssembler.TransferException e =
        assertThrows(ChunkAssembler.TransferException.class, () -> assembler.accept(first));

    assertTrue(e.getMessage().contains("larger than one transfer can hold"), e.getMessage());
  }

  /** Each chunk passes its own check, yet one was swapped: only the payload digest over the chunk digests sees it. */
  @Test
  void accept_swappedChunkWithItsOwnValidDigest_failsTheWholePayloadCheck() {
    ChunkedPayload payload = new ChunkedPayload(randomBytes(3000), 1000);
    byte[] other = new byte[1000];
    Chunk original = payload.chunk(1);
    Chunk swapped = original.toBuilder().setData(ByteString.copyFrom(other))
        .setChunkSha256(ByteString.copyFrom(Digests.sha256(other))).build();
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);
    assembler.accept(payload.chunk(0));
    assembler.accept(swapped);

    ChunkAssembler.TransferException e =
        assertThrows(ChunkAssembler.TransferException.class, () -> assembler.accept(payload.chunk(2)));

    assertTrue(e.getMessage().contains("does not match its digest"), e.getMessage());
  }

  /** A published model is encoded chunk by chunk; chunk edges that split a float must not show on the wire. */
  @Test
  void floatPayload_sendsExactlyTheEncodedBytes_withTheSameDigests_evenWhenChunksSplitValues() {
    float[] values = new float[2_503];
    Random random = new Random(11);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    byte[] encoded = Tensors.toBytes(values);
    for (int chunkSize : new int[] {1_001, 1_024, 4, 3, 20_000}) {
      ChunkedPayload fromFloats = ChunkedPayload.ofFloats(FloatBuffer.wrap(values).asReadOnlyBuffer(), chunkSize);
      ChunkedPayload fromBytes = new ChunkedPayload(encoded, chunkSize);
      assertArrayEquals(fromBytes.digest(), fromFloats.digest(), "chunk size " + chunkSize);
      ChunkAssembler assembler = new ChunkAssembler(1 << 20);
      Optional<ByteString> result = Optional.empty();
      for (int i = 0; i < fromFloats.chunkCount(); i++) {
        assertEquals(fromBytes.chunk(i), fromFloats.chunk(i), "chunk " + i + " of size " + chunkSize);
        result = assembler.accept(fromFloats.chunk(i));
      }
      assertArrayEquals(values, Tensors.fromBytes(result.orElseThrow()));
    }
  }

  @Test
  void accept_chunkOutOfOrder_isRefused() {
    ChunkedPayload payload = new ChunkedPayload(randomBytes(4096), 1024);
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);
    assembler.accept(payload.chunk(0));

    ChunkAssembler.TransferException e =
        assertThrows(ChunkAssembler.TransferException.class, () -> assembler.accept(payload.chunk(2)));

    assertEquals("expected chunk 1 but received chunk 2", e.getMessage());
  }

  @Test
  void tensors_roundTripLittleEndianFloat32() {
    float[] values = {0f, -1.5f, 3.25e-8f, Float.MAX_VALUE};
    byte[] bytes = Tensors.toBytes(values);

    assertEquals(16, bytes.length);
    assertEquals((byte) 0xC0, bytes[6]); // -1.5f = 0xBFC00000, little-endian: 00 00 C0 BF
    assertEquals((byte) 0xBF, bytes[7]);
    assertArrayEquals(values, Tensors.fromBytes(bytes));
    assertEquals(-1, Tensors.firstNonFinite(values));
    assertEquals(1, Tensors.firstNonFinite(new float[] {1f, Float.NaN}));
  }
}
