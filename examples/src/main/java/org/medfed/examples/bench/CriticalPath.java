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
 * <p>That is the upper bound, for a hospital with one core. {@link #lowerBoundNanos} is the 2-core
 * lower bound: the steps that run beside training on another thread (a hospital's advertise keys,
 * share keys and mask expansion; the coordinator's keys and shares, while the hospitals train) leave
 * the path unless they outlast training.
 *
 * @param secure each hospital's CPU in the secure round
 * @param coordinatorNanos the coordinator's protocol CPU in the secure round (sum, unmasking and the rest)
 * @param coordinatorBesideNanos the part of it done while the hospitals train (keys, shares)
 * @param plaintextTrainingNanos each hospital's training CPU in the plaintext round
 */
record CriticalPath(Map<String, HospitalCpu> secure, long coordinatorNanos, long coordinatorBesideNanos,
    Map<String, Long> plaintextTrainingNanos) {

  /**
   * One hospital's CPU time in one round, in nanoseconds.
   *
   * @param besideTrainingNanos the part of the protocol CPU that runs beside training, on another thread
   */
  record HospitalCpu(long trainingNanos, long protocolNanos, long besideTrainingNanos) {
    HospitalCpu {
      if (trainingNanos < 0 || protocolNanos < 0) {
        throw new IllegalArgumentException("CPU times must be >= 0, got training " + trainingNanos + " ns and protocol "
            + protocolNanos + " ns");
      }
      if (besideTrainingNanos < 0 || besideTrainingNanos > protocolNanos) {
        throw new IllegalArgumentException("protocol CPU beside training must be 0.." + protocolNanos + " ns, got "
            + besideTrainingNanos);
      }
    }

    /** A hospital none of whose protocol runs beside training. */
    HospitalCpu(long trainingNanos, long protocolNanos) {
      this(trainingNanos, protocolNanos, 0);
    }

    long totalNanos() {
      return trainingNanos + protocolNanos;
    }
  }

  CriticalPath(Map<String, HospitalCpu> secure, long coordinatorNanos, Map<String, Long> plaintextTrainingNanos) {
    this(secure, coordinatorNanos, 0, plaintextTrainingNanos);
  }

  CriticalPath {
    if (secure.isEmpty() || plaintextTrainingNanos.isEmpty()) {
      throw new IllegalArgumentException("a critical path needs both rounds' hospitals, got " + secure.size()
          + " secure and " + plaintextTrainingNanos.size() + " plaintext");
    }
    if (coordinatorNanos < 0 || coordinatorBesideNanos < 0 || coordinatorBesideNanos > coordinatorNanos) {
      throw new IllegalArgumentException("coordinator CPU must be >= 0, and the part beside training 0.." + coordinatorNanos
          + " ns; got " + coordinatorNanos + " ns and " + coordinatorBesideNanos + " ns beside training");
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

  /**
   * The 2-core lower bound: for each hospital, its training or, if longer, the chain beside it (its
   * steps beside training and the coordinator's keys and shares), then the rest of its protocol;
   * the slowest of those, plus the coordinator's steps after training.
   */
  long lowerBoundNanos() {
    long slowest = secure.values().stream().mapToLong(h -> Math.max(h.trainingNanos(),
        h.besideTrainingNanos() + coordinatorBesideNanos) + h.protocolNanos() - h.besideTrainingNanos()).max()
        .orElseThrow();
    return slowest + coordinatorNanos - coordinatorBesideNanos;
  }

  double lowerBoundRatio() {
    return (double) lowerBoundNanos() / plaintextNanos();
  }

  /** The hospitals' protocol CPU, to see whether one hospital or all of them pay it. */
  List<Long> protocolNanos() {
    return secure.values().stream().map(HospitalCpu::protocolNanos).sorted().toList();
  }
}
