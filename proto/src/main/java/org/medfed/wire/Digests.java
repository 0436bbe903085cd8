package org.medfed.wire;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 helpers; every transfer and checkpoint is identified by its digest. */
public final class Digests {
  private Digests() {}

  public static byte[] sha256(byte[] data) {
    return sha256(data, 0, data.length);
  }

  public static byte[] sha256(byte[] data, int offset, int length) {
    MessageDigest digest = newSha256();
    digest.update(data, offset, length);
    return digest.digest();
  }

  /** Hashed in the buffers the bytes already are in, without gathering them into one array. */
  public static byte[] sha256(ByteString data) {
    MessageDigest digest = newSha256();
    for (ByteBuffer part : data.asReadOnlyByteBufferList()) {
      digest.update(part);
    }
    return digest.digest();
  }

  public static String hex(byte[] digest) {
    return HexFormat.of().formatHex(digest);
  }

  /** Short form for logs: enough to tell payloads apart, never the payload itself. */
  public static String shortHex(byte[] digest) {
    return hex(digest).substring(0, Math.min(16, digest.length * 2));
  }

  /** A fresh SHA-256, for a digest fed piece by piece. */
  public static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK must provide SHA-256", e);
    }
  }
}
