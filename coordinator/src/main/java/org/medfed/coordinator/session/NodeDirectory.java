package org.medfed.coordinator.session;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every hospital node operators should know of: the connected ones from the registry and, from the
 * coordinator's database, those seen before that are not connected now (also across restarts).
 */
public final class NodeDirectory {

  /** Where nodes are remembered; the coordinator's database. */
  public interface History {
    void record(NodeView node);

    List<NodeView> all();
  }

  private final NodeRegistry registry;
  private final History history;

  /** Starts recording arrivals and departures of {@code registry} in {@code history}. */
  public NodeDirectory(NodeRegistry registry, History history) {
    this.registry = registry;
    this.history = history;
    registry.onArrival(session -> history.record(NodeView.of(session, true)));
    // A replaced session departs while its node stays connected: only the current one counts.
    registry.onDeparture(session -> history.record(NodeView.of(session,
        registry.connectedIds().contains(session.nodeId()))));
  }

  /** Connected nodes first (with live last-seen times), then the others by when they were last seen. */
  public List<NodeView> all() {
    Map<String, NodeView> nodes = new TreeMap<>();
    history.all().forEach(n -> nodes.put(n.nodeId(), n));
    registry.connected().forEach(s -> nodes.put(s.nodeId(), NodeView.of(s, true)));
    List<NodeView> list = new ArrayList<>(nodes.values());
    list.sort(Comparator.comparing(NodeView::connected).reversed()
        .thenComparing(Comparator.comparing(NodeView::lastSeen).reversed()));
    return list;
  }
}
