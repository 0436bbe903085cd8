package org.medfed.coordinator.strategy;

import java.util.List;

/**
 * What the TRAIN phase hands to the strategy: under secure aggregation only the mean (the
 * coordinator never sees one hospital's update), in the clear each accepted update, so that
 * robust rules can look at them one by one.
 */
public sealed interface RoundInput {

  /** The round's sample-weighted mean delta, as a {@link MeanRule} takes it. */
  RoundUpdate mean();

  /** The secure-aggregation result: the mean is all there is. */
  record Mean(RoundUpdate mean) implements RoundInput {}

  /** The plaintext updates, in the order the hospitals were selected. */
  record EachUpdate(List<ClientUpdate> updates) implements RoundInput {
    public EachUpdate {
      updates = List.copyOf(updates);
      if (updates.isEmpty()) {
        throw new IllegalArgumentException("a round needs at least one update");
      }
    }

    @Override
    public RoundUpdate mean() {
      return Aggregation.combine(updates);
    }
  }
}
