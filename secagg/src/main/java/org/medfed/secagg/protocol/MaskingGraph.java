package org.medfed.secagg.protocol;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Who masks with whom and holds whose shares. The complete graph (Bonawitz et al. 2017) suits the
 * tens of hospitals of a consortium; for large n, SecAgg+ (Bell et al. 2020) uses a random
 * k-regular graph, here a Harary graph over a seeded shuffle of the participants, so each client
 * does O(k) instead of O(n) work. Immutable; the graph is public and agreed before keys are made.
 */
public final class MaskingGraph {
  private final Map<Integer, Set<Integer>> neighbours;
  private final String description;

  private MaskingGraph(Map<Integer, Set<Integer>> neighbours, String description) {
    this.neighbours = neighbours;
    this.description = description;
  }

  public static MaskingGraph complete(List<Integer> participants) {
    Map<Integer, Set<Integer>> graph = new TreeMap<>();
    for (int u : participants) {
      Set<Integer> others = new TreeSet<>(participants);
      others.remove(u);
      graph.put(u, Collections.unmodifiableSet(others));
    }
    return new MaskingGraph(Collections.unmodifiableMap(graph), "complete(n=" + participants.size() + ")");
  }

  /**
   * A k-regular Harary graph on the participants in a seeded random order: each node is joined to
   * the k/2 nodes before and after it on the shuffled ring.
   */
  public static MaskingGraph randomRegular(List<Integer> participants, int k, long seed) {
    int n = participants.size();
    if (k % 2 != 0 || k < 2 || k >= n) {
      throw new IllegalArgumentException("SecAgg+ degree k must be even and in 2..n-1 (n=" + n + "), got " + k);
    }
    List<Integer> ring = new ArrayList<>(participants);
    Collections.sort(ring);
    Collections.shuffle(ring, new Random(seed));
    Map<Integer, Set<Integer>> graph = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      Set<Integer> near = new TreeSet<>();
      for (int d = 1; d <= k / 2; d++) {
        near.add(ring.get((i + d) % n));
        near.add(ring.get((i - d + n) % n));
      }
      graph.put(ring.get(i), Collections.unmodifiableSet(near));
    }
    return new MaskingGraph(Collections.unmodifiableMap(graph), "harary(n=" + n + ", k=" + k + ", seed=" + seed + ")");
  }

  public Set<Integer> participants() {
    return neighbours.keySet();
  }

  public boolean contains(int id) {
    return neighbours.containsKey(id);
  }

  /** The nodes {@code id} masks with, excluding itself. */
  public Set<Integer> neighbours(int id) {
    Set<Integer> set = neighbours.get(id);
    if (set == null) {
      throw new IllegalArgumentException("node " + id + " is not a participant of " + description);
    }
    return set;
  }

  /** The smallest neighbourhood size plus one: the largest threshold every node can meet. */
  public int minimumNeighbourhood() {
    return neighbours.values().stream().mapToInt(Set::size).min().orElse(0) + 1;
  }

  @Override
  public String toString() {
    return description;
  }
}
