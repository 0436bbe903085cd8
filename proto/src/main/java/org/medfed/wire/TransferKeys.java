package org.medfed.wire;

import io.grpc.Metadata;

/** gRPC metadata shared by both ends of a chunked transfer. */
public final class TransferKeys {
  /** Trailer on a DATA_LOSS upload failure: the chunk index the sender should resume from. */
  public static final Metadata.Key<String> RESUME_FROM =
      Metadata.Key.of("medfed-resume-from", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * Header of an upload call naming its task, so that the receiver can decide whether to take the
   * upload before it reads any of it: a masked upload may have to wait for its turn to be assembled.
   */
  public static final Metadata.Key<String> UPLOAD_TASK =
      Metadata.Key.of("medfed-upload-task", Metadata.ASCII_STRING_MARSHALLER);

  private TransferKeys() {}
}
