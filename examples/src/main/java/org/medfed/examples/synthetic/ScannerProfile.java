package org.medfed.examples.synthetic;

import java.util.Random;

/**
 * How one hospital's scanner distorts images: intensity gain and offset, contrast (gamma), noise
 * level and blur. Drawn per hospital, so the same lesion looks different at each site.
 */
public record ScannerProfile(double gain, double offset, double gamma, double noise, int blurPasses) {

  public static ScannerProfile draw(Random random) {
    return new ScannerProfile(
        0.85 + 0.3 * random.nextDouble(),
        -0.05 + 0.1 * random.nextDouble(),
        0.8 + 0.4 * random.nextDouble(),
        0.03 + 0.06 * random.nextDouble(),
        random.nextInt(2));
  }
}
