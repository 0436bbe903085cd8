package org.medfed.wire;

import java.util.List;

/**
 * The session protocol versions; a coordinator refuses agents that speak none of its versions.
 *
 * <p>2 (issue 16): secure aggregation signs and derives its session from {@link SecAggInstance}
 * (the whole setup), sends each hospital only its neighbourhood's keys and survivor-set signatures,
 * and a hospital refuses any other entry. A version-1 agent would expect the whole directory and sign
 * the bare context, so its round keys would not verify: it is refused at hello instead.
 *
 * <p>3 (issue 16): a certificate crosses each session once. Round keys carry only their signer's
 * certificate fingerprint (the coordinator takes the certificate from the TLS session), and a key
 * directory sends each peer's certificate in full only the first time that session carries it. A
 * version-2 agent would send keys without the fingerprint and fail on directories without
 * certificates: it is refused at hello.
 *
 * <p>4 (issue 16 item 4): secure aggregation's own messages shrink by about half. Shamir shares are
 * 33 bytes over a 257-bit field instead of 67 over 2^521 − 1, share ciphertexts carry no nonce (it is
 * their direction), a key directory leaves out the recipient's own keys and names a certificate sent
 * before by its number on the session instead of its SHA-256, round keys carry no fingerprint, an
 * unmask request carries t − 1 signatures (not the recipient's own), and revealed shares travel packed
 * in the request's order. A version-3 agent would fail on every one of these: it is refused at hello.
 *
 * <p>Also in 4 (issue 16 item 3, the same release): a chunked transfer names its payload by
 * {@link PayloadDigest}, a hash list over the chunks' SHA-256s (Chunk.payload_digest, with
 * Chunk.chunk_size), instead of a plain SHA-256 of the whole payload (Chunk.payload_sha256, now
 * reserved), so each byte is hashed once at each end. A version-3 agent's transfers would carry no
 * payload digest and expect the old one: it is refused at hello, and a receiver given such a chunk
 * says so ({@link ChunkAssembler}).
 */
public final class ProtocolVersion {
  public static final int CURRENT = 4;
  public static final List<Integer> SUPPORTED = List.of(4);
  /** The most tasks an agent may run side by side (Hello.max_concurrent_tasks); both ends check it. */
  public static final int MAX_CONCURRENT_TASKS = 64;

  private ProtocolVersion() {}

  public static boolean isSupported(int version) {
    return SUPPORTED.contains(version);
  }
}
