package org.medfed.wire;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.TreeMap;
import org.medfed.proto.v1.SecAggSetup;

/**
 * The bytes that name one secure-aggregation instance: SHA-256 over everything public about it, the
 * coordinator's fresh context (job, round, attempt) and the whole setup it sent (participants with
 * their names and ids, threshold, neighbours, graph seed, vector layout and quantization). Every
 * signature of the round (a hospital's round keys, its survivor-set signature) and the session id
 * cover it. Since each hospital only sees its neighbours' keys, this is what stops a coordinator
 * from mixing views: a peer's keys verify only if the peer was shown the very same setup, and so
 * derives the very same masking graph.
 */
public final class SecAggInstance {
  private SecAggInstance() {}

  /** Identical at the coordinator and at every hospital shown the same setup. */
  public static byte[] context(SecAggSetup setup) {
    MessageDigest sha = Digests.newSha256();
    sha.update(bytes("medfed-secagg/v2/instance"));
    sha.update(lengthPrefixed(setup.getContext().toByteArray()));
    // Participants in id order with their names: the id a hospital signs under is the one its peers expect.
    Map<Integer, String> byId = new TreeMap<>();
    setup.getParticipantIdsMap().forEach((name, id) -> {
      if (byId.put(id, name) != null) {
        throw new IllegalArgumentException("the secure-aggregation setup gives id " + id + " to two participants");
      }
    });
    sha.update(ByteBuffer.allocate(4).putInt(byId.size()).array());
    byId.forEach((id, name) -> {
      sha.update(ByteBuffer.allocate(4).putInt(id).array());
      sha.update(lengthPrefixed(bytes(name)));
    });
    sha.update(ByteBuffer.allocate(4 + 8 + 4 + 8 + 4 + 4 + 8)
        .putInt(setup.getThreshold()).putDouble(setup.getClip()).putInt(setup.getBits())
        .putLong(setup.getMaxSamplesPerNode()).putInt(setup.getVectorLength()).putInt(setup.getNeighbours())
        .putLong(setup.getGraphSeed()).array());
    return sha.digest();
  }

  /** The SecAgg+ graph seed a coordinator must use: drawn from its fresh context, not chosen after the fact. */
  public static long graphSeed(byte[] setupContext) {
    return ByteBuffer.wrap(Digests.sha256(setupContext)).getLong();
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] lengthPrefixed(byte[] data) {
    return ByteBuffer.allocate(4 + data.length).putInt(data.length).put(data).array();
  }
}
