package org.medfed.coordinator.strategy;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a strategy carries from one round to the next (FedAvgM's "velocity", FedOpt's "m" and "v"),
 * as named arrays in sorted name order, so that its checkpoint encoding and digest are canonical.
 * Immutable: arrays are copied in and out.
 */
public record StrategyState(SortedMap<String, double[]> arrays) {
  /** The state of a strategy that keeps none. */
  public static final StrategyState NONE = new StrategyState(new TreeMap<>());

  public StrategyState {
    SortedMap<String, double[]> copy = new TreeMap<>();
    arrays.forEach((name, values) -> {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("a strategy state array needs a name, got '" + name + "'");
      }
      copy.put(name, values.clone());
    });
    arrays = Collections.unmodifiableSortedMap(copy);
  }

  public static StrategyState of(Map<String, double[]> arrays) {
    return new StrategyState(new TreeMap<>(arrays));
  }

  @Override
  public SortedMap<String, double[]> arrays() {
    SortedMap<String, double[]> copy = new TreeMap<>();
    arrays.forEach((name, values) -> copy.put(name, values.clone()));
    return copy;
  }

  public boolean isEmpty() {
    return arrays.isEmpty();
  }

  public Set<String> names() {
    return arrays.keySet();
  }

  /**
   * Checks that this state holds exactly the arrays {@code owner} keeps, before it takes them back.
   *
   * @throws IllegalArgumentException otherwise, as when a job's strategy was changed between the
   *     checkpoint and the resume
   */
  public StrategyState expectNames(Object owner, String... names) {
    Set<String> expected = new TreeSet<>(Arrays.asList(names));
    if (!arrays.keySet().equals(expected)) {
      throw new IllegalArgumentException(owner + " keeps state " + expected + " but the checkpoint holds "
          + arrays.keySet() + "; was the job's strategy changed?");
    }
    return this;
  }

  /** A copy of the named array. */
  public double[] get(String name) {
    double[] values = arrays.get(name);
    if (values == null) {
      throw new IllegalArgumentException("no strategy state named '" + name + "'; this state holds " + arrays.keySet());
    }
    return values.clone();
  }

  /** Content equality; a record compares arrays by identity. */
  @Override
  public boolean equals(Object o) {
    return o instanceof StrategyState s && s.arrays.size() == arrays.size()
        && arrays.entrySet().stream().allMatch(e -> Arrays.equals(e.getValue(), s.arrays.get(e.getKey())));
  }

  @Override
  public int hashCode() {
    return arrays.entrySet().stream().mapToInt(e -> e.getKey().hashCode() ^ Arrays.hashCode(e.getValue())).sum();
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder("StrategyState[");
    arrays.forEach((name, values) -> out.append(out.length() > 14 ? ", " : "").append(name).append(": ")
        .append(values.length).append(" values"));
    return out.append(']').toString();
  }
}
