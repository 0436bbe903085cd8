package org.medfed.coordinator.round;

import java.util.Optional;
import org.medfed.wire.Tensors;

/** The checks every update must pass before it may be aggregated. */
final class UpdateChecks {
  private UpdateChecks() {}

  /** Why {@code update} cannot be aggregated into a model of {@code expectedLength} parameters, if it cannot. */
  static Optional<String> problem(float[] update, int expectedLength) {
    if (update.length != expectedLength) {
      return Optional.of("update has " + update.length + " values but the model has " + expectedLength
          + " parameters");
    }
    int bad = Tensors.firstNonFinite(update);
    if (bad >= 0) {
      return Optional.of("update contains " + update[bad] + " at index " + bad + "; only finite values are accepted");
    }
    return Optional.empty();
  }
}
