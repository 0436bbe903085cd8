package org.medfed.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.medfed.proto.v1.Chunk;

/** The hash-list payload digest (protocol version 4) and the attacks it must still catch. */
class PayloadDigestTest {
  private static byte[] randomBytes(int n, long seed) {
    byte[] bytes = new byte[n];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  private static Optional<ByteString> feed(ChunkAssembler assembler, Chunk... chunks) {
    Optional<ByteString> result = Optional.empty();
    for (Chunk chunk : chunks) {
      result = assembler.accept(chunk);
    }
    return result;
  }

  @Test
  void digest_isSha256OfTheHeaderThenEachChunksSha256InOrder() throws IOException {
    byte[] data = randomBytes(2_500, 1);
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(expected);
    out.write("medfed chunked payload v1\0".getBytes(StandardCharsets.US_ASCII));
    out.writeLong(2_500);
    out.writeInt(1_000);
    out.writeInt(3);
    out.write(Digests.sha256(data, 0, 1_000));
    out.write(Digests.sha256(data, 1_000, 1_000));
    out.write(Digests.sha256(data, 2_000, 500));

    assertArrayEquals(Digests.sha256(expected.toByteArray()), new ChunkedPayload(data, 1_000).digest());
  }

  @Test
  void digest_bindsTheChunkSize_andDiffersFromAPlainSha256() {
    byte[] data = randomBytes(4_096, 2);

    assertFalse(Arrays.equals(new ChunkedPayload(data, 1_024).digest(), new ChunkedPayload(data, 2_048).digest()));
    assertFalse(Arrays.equals(Digests.sha256(data), new ChunkedPayload(data, 1 << 20).digest()));
  }

  @Test
  void accept_reorderedChunks_relabelledToLookInOrder_failTheDigest() {
    ChunkedPayload payload = new ChunkedPayload(randomBytes(3_000, 3), 1_000);
    Chunk second = payload.chunk(2).toBuilder().setIndex(1).build();
    Chunk third = payload.chunk(1).toBuilder().setIndex(2).build();
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);

    ChunkAssembler.TransferException e = assertThrows(ChunkAssembler.TransferException.class,
        () -> feed(assembler, payload.chunk(0), second, third));

    assertTrue(e.getMessage().contains("does not match its digest"), e.getMessage());
  }

  @Test
  void accept_tamperedChunkWithItsSha256Recomputed_failsTheDigest() {
    ChunkedPayload payload = new ChunkedPayload(randomBytes(3_000, 4), 1_000);
    byte[] tampered = payload.chunk(2).getData().toByteArray();
    tampered[999] ^= 0x40;
    Chunk last = payload.chunk(2).toBuilder().setData(ByteString.copyFrom(tampered))
        .setChunkSha256(ByteString.copyFrom(Digests.sha256(tampered))).build();
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);

    assertThrows(ChunkAssembler.TransferException.class, () -> feed(assembler, payload.chunk(0), payload.chunk(1), last));
  }

  /** Dropping the tail and announcing a shorter payload keeps every chunk valid, but not the digest. */
  @Test
  void accept_truncatedPayloadAnnouncedAsWhole_failsTheDigest() {
    ChunkedPayload payload = new ChunkedPayload(randomBytes(3_000, 5), 1_000);
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);

    ChunkAssembler.TransferException e = assertThrows(ChunkAssembler.TransferException.class, () -> feed(assembler,
        payload.chunk(0).toBuilder().setCount(2).setTotalLength(2_000).build(),
        payload.chunk(1).toBuilder().setCount(2).setTotalLength(2_000).build()));

    assertTrue(e.getMessage().contains("does not match its digest"), e.getMessage());
  }

  @Test
  void accept_streamThatStopsEarly_isNotComplete_andResumesFromTheNextChunk() {
    byte[] data = randomBytes(5_000, 6);
    ChunkedPayload payload = new ChunkedPayload(data, 1_000);
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);
    assertTrue(feed(assembler, payload.chunk(0), payload.chunk(1)).isEmpty());
    assertFalse(assembler.isComplete());

    // The resumed stream comes from a sender that cut the same bytes again, as a restarted one would.
    ChunkedPayload again = new ChunkedPayload(data.clone(), 1_000);
    Optional<ByteString> result = feed(assembler, again.chunk(2), again.chunk(3), again.chunk(4));

    assertArrayEquals(data, result.orElseThrow().toByteArray());
  }

  /**
   * The chunks held before a resume still count: a resumed stream of another payload that claims the
   * first one's digest passes every chunk check, and fails the payload digest.
   */
  @Test
  void accept_resumeFromAnotherPayloadClaimingTheSameDigest_failsTheDigest() {
    ChunkedPayload first = new ChunkedPayload(randomBytes(5_000, 7), 1_000);
    ChunkedPayload other = new ChunkedPayload(randomBytes(5_000, 8), 1_000);
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);
    feed(assembler, first.chunk(0), first.chunk(1));
    ByteString claimed = first.chunk(0).getPayloadDigest();

    assertThrows(ChunkAssembler.TransferException.class, () -> feed(assembler,
        other.chunk(2).toBuilder().setPayloadDigest(claimed).build(),
        other.chunk(3).toBuilder().setPayloadDigest(claimed).build(),
        other.chunk(4).toBuilder().setPayloadDigest(claimed).build()));
  }

  @Test
  void accept_resumeFromAnotherPayload_isRefusedAtItsFirstChunk() {
    ChunkedPayload first = new ChunkedPayload(randomBytes(5_000, 9), 1_000);
    ChunkedPayload other = new ChunkedPayload(randomBytes(5_000, 10), 1_000);
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);
    feed(assembler, first.chunk(0), first.chunk(1));

    ChunkAssembler.TransferException e =
        assertThrows(ChunkAssembler.TransferException.class, () -> assembler.accept(other.chunk(2)));

    assertEquals("chunk 2 belongs to a different payload than the chunks before it", e.getMessage());
  }

  @Test
  void accept_chunkShorterThanTheLayoutSays_isRefused() {
    ChunkedPayload payload = new ChunkedPayload(randomBytes(3_000, 11), 1_000);
    byte[] shorter = Arrays.copyOf(payload.chunk(1).getData().toByteArray(), 999);
    Chunk cut = payload.chunk(1).toBuilder().setData(ByteString.copyFrom(shorter))
        .setChunkSha256(ByteString.copyFrom(Digests.sha256(shorter))).build();
    ChunkAssembler assembler = new ChunkAssembler(1 << 20);
    assembler.accept(payload.chunk(0));

    ChunkAssembler.TransferException e = assertThrows(ChunkAssembler.TransferException.class, () -> assembler.accept(cut));

    assertEquals("chunk 1 carries 999 bytes, but a payload of 3000 bytes in chunks of 1000 bytes has 1000 there",
        e.getMessage());
  }

  @Test
  void accept_countThatDoesNotFitLengthAndChunkSize_isRefused() {
    Chunk first = new ChunkedPayload(randomBytes(3_000, 12), 1_000).chunk(0).toBuilder().setCount(4).build();

    ChunkAssembler.TransferException e =
        assertThrows(ChunkAssembler.TransferException.class, () -> new ChunkAssembler(1 << 20).accept(first));

    assertEquals("chunk count 4 does not fit a payload of 3000 bytes in chunks of 1000 bytes, which has 3",
        e.getMessage());
  }

  /** A sender older than protocol version 4 sends a plain SHA-256 in the now reserved field 4. */
  @Test
  void accept_chunkWithoutPayloadDigest_namesTheOlderProtocol() {
    Chunk old = new ChunkedPayload(randomBytes(100, 13), 1_000).chunk(0).toBuilder().clearPayloadDigest().build();

    ChunkAssembler.TransferException e =
        assertThrows(ChunkAssembler.TransferException.class, () -> new ChunkAssembler(1 << 20).accept(old));

    assertTrue(e.getMessage().contains("older than version 4"), e.getMessage());
  }

  @Test
  void emptyPayload_travelsAsOneEmptyChunk() {
    ChunkedPayload empty = new ChunkedPayload(new byte[0], 1_000);

    assertEquals(1, empty.chunkCount());
    assertArrayEquals(new byte[0], new ChunkAssembler(10).accept(empty.chunk(0)).orElseThrow().toByteArray());
  }
}
