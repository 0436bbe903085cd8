package org.medfed.trust.tls;

/** Where refused connections and calls are reported (the log, the audit trail). */
@FunctionalInterface
public interface SecurityEvents {
  void refused(String subject, String reason);

  SecurityEvents NONE = (subject, reason) -> { };
}
