package org.medfed.coordinator.strategy;

import java.util.List;

/**
 * Krum and Multi-Krum (Blanchard et al. 2017, "Machine Learning with Adversaries: Byzantine
 * Tolerant Gradient Descent", NeurIPS): each update is scored by the sum of squared distances to
 * its n − f − 2 nearest others, and the m lowest-scored updates are averaged, weighted by samples.
 * Krum is m = 1: the single most central update. Tolerates f arbitrary updates when n > 2f + 2;
 * a round with fewer updates is skipped rather than aggregated without that guarantee.
 * Needs each update, so plaintext jobs only.
 */
public final class Krum implements PerUpdateRule {
  private final int byzantine;
  private final int selected;

  /**
   * @param byzantine f, how many updates may be arbitrary
   * @param selected m, how many lowest-scored updates to average; 1 for Krum
   */
  public Krum(int byzantine, int selected) {
    if (byzantine < 0 || selected < 1) {
      throw new IllegalArgumentException("Krum needs f >= 0 and m >= 1, got f=" + byzantine + ", m=" + selected);
    }
    this.byzantine = byzantine;
    this.selected = selected;
  }

  @Override
  public Aggregate aggregate(int round, float[] globalParameters, List<ClientUpdate> updates) {
    Aggregation.requireSameLength(globalParameters, updates);
    int n = updates.size();
    if (n <= 2 * byzantine + 2) {
      return new Aggregate.Skipped(this + " needs more than 2f + 2 = " + (2 * byzantine + 2) + " updates to "
          + "tolerate f = " + byzantine + " arbitrary ones, but the round has " + n
          + "; raise min_nodes to " + (2 * byzantine + 3) + " or lower strategy.byzantine");
    }
    if (selected > n - byzantine) {
      return new Aggregate.Skipped(this + " averages m = " + selected + " updates, but only n − f = "
          + (n - byzantine) + " of the round's " + n + " can be trusted; lower strategy.selected");
    }
    List<ClientUpdate> chosen = RobustAggregation.lowest(RobustAggregation.krumScores(updates, byzantine), selected)
        .stream().map(updates::get).toList();
    RoundUpdate mean = Aggregation.combine(chosen);
    return new Aggregate.Updated(Aggregation.add(globalParameters, mean), Aggregation.withSamples(mean));
  }

  @Override
  public String toString() {
    return selected == 1 ? "Krum(f=" + byzantine + ")" : "MultiKrum(f=" + byzantine + ", m=" + selected + ")";
  }
}
