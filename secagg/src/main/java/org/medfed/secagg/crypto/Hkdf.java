package org.medfed.secagg.crypto;

import java.nio.charset.StandardCharsets;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

/** HKDF-SHA256 (RFC 5869): turns a Diffie-Hellman secret into keys bound to a session and purpose. */
public final class Hkdf {
  private Hkdf() {}

  public static byte[] derive(byte[] secret, byte[] salt, String purpose, int length) {
    HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
    hkdf.init(new HKDFParameters(secret, salt, purpose.getBytes(StandardCharsets.UTF_8)));
    byte[] out = new byte[length];
    hkdf.generateBytes(out, 0, length);
    return out;
  }
}
