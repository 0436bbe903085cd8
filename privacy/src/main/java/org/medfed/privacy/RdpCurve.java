package org.medfed.privacy;

import java.util.Arrays;
import java.util.stream.DoubleStream;

/**
 * A Rényi-DP guarantee as a curve: for each order α, the Rényi divergence bound ε(α). Curves of
 * mechanisms run one after another add per order (composition), which is how a job's steps, and a
 * hospital's jobs on one dataset, accumulate. Immutable.
 *
 * @param orders the orders α > 1, ascending
 * @param epsilons ε(α) for each order; +∞ where the bound does not hold
 */
public record RdpCurve(double[] orders, double[] epsilons) {

  /** Opacus' and dp_accounting's default orders: 1.1 to 10.9 in steps of 0.1, then 12 to 63. */
  public static final double[] DEFAULT_ORDERS = DoubleStream.concat(
      DoubleStream.iterate(1.1, a -> a < 10.95, a -> Math.round((a + 0.1) * 10) / 10.0),
      DoubleStream.iterate(12, a -> a <= 63, a -> a + 1)).toArray();

  public RdpCurve {
    if (orders.length == 0 || orders.length != epsilons.length) {
      throw new IllegalArgumentException("an RDP curve needs as many epsilons as orders, got " + orders.length
          + " orders and " + epsilons.length + " epsilons");
    }
    for (int i = 0; i < orders.length; i++) {
      if (!(orders[i] > 1) || i > 0 && !(orders[i] > orders[i - 1])) {
        throw new IllegalArgumentException("RDP orders must be ascending and above 1, got " + Arrays.toString(orders));
      }
      if (!(epsilons[i] >= 0)) {
        throw new IllegalArgumentException("RDP epsilon at order " + orders[i] + " must be >= 0, got " + epsilons[i]);
      }
    }
    orders = orders.clone();
    epsilons = epsilons.clone();
  }

  /** No privacy spent yet. */
  public static RdpCurve zero(double[] orders) {
    return new RdpCurve(orders, new double[orders.length]);
  }

  @Override
  public double[] orders() {
    return orders.clone();
  }

  @Override
  public double[] epsilons() {
    return epsilons.clone();
  }

  /** This mechanism run {@code times} times over (each run's RDP adds). */
  public RdpCurve times(long times) {
    if (times < 0) {
      throw new IllegalArgumentException("a mechanism runs a non-negative number of times, got " + times);
    }
    return new RdpCurve(orders, Arrays.stream(epsilons).map(e -> e * times).toArray());
  }

  /** Sequential composition with another curve over the same orders. */
  public RdpCurve plus(RdpCurve other) {
    if (!Arrays.equals(orders, other.orders)) {
      throw new IllegalArgumentException("RDP curves compose only over the same orders");
    }
    double[] sum = new double[orders.length];
    for (int i = 0; i < sum.length; i++) {
      sum[i] = epsilons[i] + other.epsilons[i];
    }
    return new RdpCurve(orders, sum);
  }

  /**
   * The (ε, δ) guarantee, by the improved conversion of Balle et al. 2020 (Theorem 21; as Opacus
   * and Google's dp_accounting compute it) and by the basic one of Mironov 2017 (Proposition 3),
   * each minimised over the orders.
   */
  public PrivacySpent epsilon(double delta) {
    if (!(delta > 0 && delta < 1)) {
      throw new IllegalArgumentException("delta must be in (0, 1), got " + delta);
    }
    if (Arrays.stream(epsilons).allMatch(e -> e == 0)) {
      // Nothing ran: (0, 0)-DP, rather than the conversion's floor at the largest order.
      return new PrivacySpent(0, Double.NaN, 0, Double.NaN, delta);
    }
    double best = Double.POSITIVE_INFINITY;
    double bestOrder = Double.NaN;
    double basic = Double.POSITIVE_INFINITY;
    double basicOrder = Double.NaN;
    for (int i = 0; i < orders.length; i++) {
      double a = orders[i];
      double improved = epsilons[i] - (Math.log(delta) + Math.log(a)) / (a - 1) + Math.log((a - 1) / a);
      if (improved < best) {
        best = improved;
        bestOrder = a;
      }
      double plain = epsilons[i] + Math.log(1 / delta) / (a - 1);
      if (plain < basic) {
        basic = plain;
        basicOrder = a;
      }
    }
    return new PrivacySpent(Math.max(0, best), bestOrder, Math.max(0, basic), basicOrder, delta);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RdpCurve c && Arrays.equals(orders, c.orders) && Arrays.equals(epsilons, c.epsilons);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(orders) + Arrays.hashCode(epsilons);
  }

  @Override
  public String toString() {
    return "RdpCurve" + Arrays.toString(epsilons) + " at orders " + Arrays.toString(orders);
  }
}
