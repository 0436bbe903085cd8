package org.medfed.coordinator.strategy;

import java.util.List;

/**
 * What the TRAIN phase hands to the strategy: under secure aggregation only the mean (the
 * coordinator never sees one hospital's update), in the clear each accepted update, so that
 * robust rules can look at them one by one. Either way with the round's population.
 */
public sealed interface RoundInput {

  /** The round's sample-weighted mean delta (and extra vectors), as a {@link MeanRule} takes it. */
  RoundUpdate mean();

  /**
   * N, the hospitals the round drew its participants from: connected, holding the job's dataset and
   * having approved the job. At least the number of contributors; SCAFFOLD scales its server control
   * variate's step by contributors / N.
   */
  int population();

  /** The same input with another population. */
  RoundInput withPopulation(int population);

  /** The secure-aggregation result: the mean is all there is. */
  record Mean(RoundUpdate mean, int population) implements RoundInput {
    public Mean {
      requirePopulation(population, mean.contributors());
    }

    /** A round whose every eligible hospital contributed. */
    public Mean(RoundUpdate mean) {
      this(mean, mean.contributors());
    }

    @Override
    public RoundInput withPopulation(int population) {
      return new Mean(mean, population);
    }
  }

  /** The plaintext updates, in the order the hospitals were selected. */
  record EachUpdate(List<ClientUpdate> updates, int population) implements RoundInput {
    public EachUpdate {
      updates = List.copyOf(updates);
      if (updates.isEmpty()) {
        throw new IllegalArgumentException("a round needs at least one update");
      }
      requirePopulation(population, updates.size());
    }

    /** A round whose every eligible hospital contributed. */
    public EachUpdate(List<ClientUpdate> updates) {
      this(updates, updates.size());
    }

    @Override
    public RoundUpdate mean() {
      return Aggregation.combine(updates);
    }

    @Override
    public RoundInput withPopulation(int population) {
      return new EachUpdate(updates, population);
    }
  }

  private static void requirePopulation(int population, int contributors) {
    if (population < contributors) {
      throw new IllegalArgumentException("a round of " + contributors + " contributors drew them from " + population
          + " hospitals; the population cannot be smaller");
    }
  }
}
