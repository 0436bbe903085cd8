package org.medfed.coordinator.round;

import java.util.Optional;
import org.medfed.wire.Tensors;
import org.medfed.wire.UpdateLayout;

/** The checks every update must pass before it may be aggregated. */
final class UpdateChecks {
  private UpdateChecks() {}

  /** Why a plaintext {@code update} cannot be aggregated, if it cannot: it must fill the plan's layout. */
  static Optional<String> problem(float[] update, UpdateLayout layout) {
    if (update.length != layout.plainLength()) {
      return Optional.of("update has " + update.length + " values but the model has " + layout.parameterCount()
          + " parameters" + (layout.extraVectors().isEmpty() ? ""
              : " and the update holds " + layout.vectors() + ", " + layout.plainLength() + " values"));
    }
    int bad = Tensors.firstNonFinite(update);
    if (bad >= 0) {
      return Optional.of("update contains " + update[bad] + " at index " + bad + "; only finite values are accepted");
    }
    return Optional.empty();
  }
}
