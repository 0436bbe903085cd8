package org.medfed.coordinator.round;

import java.util.List;
import java.util.Map;
import org.medfed.coordinator.strategy.RoundUpdate;

/** What the TRAIN phase gathered: one combined update, or why there is none. */
sealed interface Collected {

  /** @param dropped selected nodes whose update is not in the combination, with the reason */
  record Combined(RoundUpdate update, List<String> contributors, Map<String, String> dropped) implements Collected {
    public Combined {
      contributors = List.copyOf(contributors);
      dropped = Map.copyOf(dropped);
    }
  }

  record TooFew(String reason) implements Collected {}
}
