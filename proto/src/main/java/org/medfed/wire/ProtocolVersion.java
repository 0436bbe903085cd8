package org.medfed.wire;

import java.util.List;

/** The session protocol versions; a coordinator refuses agents that speak none of its versions. */
public final class ProtocolVersion {
  public static final int CURRENT = 1;
  public static final List<Integer> SUPPORTED = List.of(1);
  /** The most tasks an agent may run side by side (Hello.max_concurrent_tasks); both ends check it. */
  public static final int MAX_CONCURRENT_TASKS = 64;

  private ProtocolVersion() {}

  public static boolean isSupported(int version) {
    return SUPPORTED.contains(version);
  }
}
