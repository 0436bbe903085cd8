package org.medfed.wire;

import io.grpc.Metadata;

/** gRPC metadata shared by both ends of a chunked transfer. */
public final class TransferKeys {
  /** Trailer on a DATA_LOSS upload failure: the chunk index the sender should resume from. */
  public static final Metadata.Key<String> RESUME_FROM =
      Metadata.Key.of("medfed-resume-from", Metadata.ASCII_STRING_MARSHALLER);

  private TransferKeys() {}
}
