package org.medfed.examples.bench;

import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * A secure round's critical path as if each hospital had its own machine (issue 16, item 4): the
 * slowest hospital's training plus its protocol CPU, then the coordinator's CPU to unmask the sum,
 * against the slowest hospital's training in a plaintext round of the same job. CPU times, not
 * wall times, so the figure does not depend on how many processes share the benchmark's cores.
 * Transfers are in neither path: both rounds move about the same bytes (the bytes ratio says so).
 *
 * @param secure each hospital's CPU in the secure round
 * @param coordinatorNanos the coordinator's protocol CPU in the secure round (sum, unmasking and the rest)
 * @param plaintextTrainingNanos each hospital's training CPU in the plaintext round
 */
record CriticalPath(Map<String, HospitalCpu> secure, long coordinatorNanos, Map<String, Long> plaintextTrainingNanos) {

  /** One hospital's CPU time in one round, in nanoseconds. */
  record HospitalCpu(long trainingNanos, long protocolNanos) {
    HospitalCpu {
      if (trainingNanos < 0 || protocolNanos < 0) {
        throw new IllegalArgumentException("CPU times must be >= 0, got training " + trainingNanos + " ns and protocol "
            + protocolNanos + " ns");
      }
    }

    long totalNanos() {
      return trainingNanos + protocolNanos;
    }
  }

  CriticalPath {
    if (secure.isEmpty() || plaintextTrainingNanos.isEmpty()) {
      throw new IllegalArgumentException("a critical path needs both rounds' hospitals, got " + secure.size()
          + " secure and " + plaintextTrainingNanos.size() + " plaintext");
    }
    if (coordinatorNanos < 0) {
      throw new IllegalArgumentException("coordinator CPU must be >= 0, got " + coordinatorNanos + " ns");
    }
    secure = Map.copyOf(secure);
    plaintextTrainingNanos = Map.copyOf(plaintextTrainingNanos);
  }

  /** The hospital whose training plus protocol is longest: the one the secure round waits for. */
  String slowestSecureHospital() {
    return secure.entrySet().stream().max(Comparator.comparingLong((Map.Entry<String, HospitalCpu> e) ->
        e.getValue().totalNanos()).thenComparing(Map.Entry::getKey)).orElseThrow().getKey();
  }

  /** max over hospitals of (training + protocol), plus the coordinator's unmasking. */
  long secureNanos() {
    return secure.get(slowestSecureHospital()).totalNanos() + coordinatorNanos;
  }

  /** max over hospitals of training, in the plaintext round. */
  long plaintextNanos() {
    return plaintextTrainingNanos.values().stream().mapToLong(Long::longValue).max().orElseThrow();
  }

  double ratio() {
    return (double) secureNanos() / plaintextNanos();
  }

  /** The hospitals' protocol CPU, to see whether one hospital or all of them pay it. */
  List<Long> protocolNanos() {
    return secure.values().stream().map(HospitalCpu::protocolNanos).sorted().toList();
  }
}
