package org.medfed.secagg.protocol;

import java.util.Optional;

/**
 * One participant's long-term signing identity and its view of every other participant's, which
 * this library does not hold: medfed binds them to the consortium's certificates. The consistency
 * check of the malicious setting (Bonawitz et al. 2017, section 4 and figure 4, round 4) rests on
 * it: each survivor signs the survivor set it was shown, and reveals its shares only after at least
 * t of those signatures are shown to be over the same set.
 *
 * <p>Implementations must be safe to call from the thread that drives the client.
 */
public interface Signatures {
  /** Signs {@code content} with this participant's own long-term key. */
  byte[] sign(byte[] content);

  /**
   * Why {@code signature} does not prove that participant {@code signer} signed {@code content}, or
   * empty when it does.
   */
  Optional<String> problem(int signer, byte[] content, byte[] signature);
}
