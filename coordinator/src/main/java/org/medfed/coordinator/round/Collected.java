package org.medfed.coordinator.round;

import java.util.List;
import java.util.Map;
import org.medfed.coordinator.strategy.RoundInput;

/** What the TRAIN phase gathered: the updates for the strategy, or why there are none. */
sealed interface Collected {

  /** @param dropped selected nodes whose update is not in the combination, with the reason */
  record Combined(RoundInput input, List<String> contributors, Map<String, String> dropped) implements Collected {
    public Combined {
      contributors = List.copyOf(contributors);
      dropped = Map.copyOf(dropped);
    }
  }

  record TooFew(String reason) implements Collected {}
}
