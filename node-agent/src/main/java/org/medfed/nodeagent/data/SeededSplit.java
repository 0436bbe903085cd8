package org.medfed.nodeagent.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Samples without a given split, held out at random: {@code test_fraction} of them (rounded) go to
 * test, reproducibly for a {@code split_seed}. The one rule for every format that draws its split.
 */
record SeededSplit<T>(List<T> train, List<T> test) {
  SeededSplit {
    train = List.copyOf(train);
    test = List.copyOf(test);
  }

  static <T> SeededSplit<T> of(List<T> samples, double testFraction, long seed) {
    List<T> shuffled = new ArrayList<>(samples);
    Collections.shuffle(shuffled, new Random(seed));
    int held = (int) Math.round(shuffled.size() * testFraction);
    return new SeededSplit<>(shuffled.subList(held, shuffled.size()), shuffled.subList(0, held));
  }
}
