package org.medfed.coordinator.session;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A hospital node as operators see it (`medfed nodes`, the dashboard): connected now or seen before.
 *
 * @param connectedSince empty when not connected
 * @param datasets one line per dataset: name, kind and sample counts (descriptors only)
 */
public record NodeView(String nodeId, String softwareVersion, Optional<Instant> connectedSince, Instant lastSeen,
    List<String> datasets, boolean connected) {
  public NodeView {
    datasets = List.copyOf(datasets);
  }

  static NodeView of(NodeSession session, boolean connected) {
    return new NodeView(session.nodeId(), session.softwareVersion(),
        connected ? Optional.of(session.connectedAt()) : Optional.empty(), session.lastSeen(),
        session.datasets().stream().map(d -> d.getName() + " (" + d.getKind().name().toLowerCase(Locale.ROOT)
            + ", " + d.getTrainSamples() + " train, " + d.getTestSamples() + " test)").toList(), connected);
  }
}
