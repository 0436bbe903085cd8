package org.medfed.examples.synthetic;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bin/medfed-synthetic --kits kits}: synthetic hospital data for trying a provisioned consortium by hand. */
@Command(name = "medfed-synthetic", mixinStandardHelpOptions = true,
    description = {"Writes synthetic non-IID imaging and genomic data into hospital startup kits",
        "(kits/hospitals/hospital-a, hospital-b, ...) and declares it in each kit's agent.yaml."})
public final class SyntheticDataMain implements Callable<Integer> {
  @Option(names = "--kits", defaultValue = "kits", description = "The folder `medfed provision` wrote (default: ${DEFAULT-VALUE}).")
  Path kits;

  @Option(names = "--hospitals", defaultValue = "2", description = "How many of the kits to fill (default: ${DEFAULT-VALUE}).")
  int hospitals;

  @Option(names = "--samples", defaultValue = "300", description = "Training samples per hospital and task (default: ${DEFAULT-VALUE}).")
  int samples;

  @Option(names = "--seed", defaultValue = "7", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  public static void main(String[] args) {
    System.exit(new CommandLine(new SyntheticDataMain()).execute(args));
  }

  @Override
  public Integer call() {
    try {
      SyntheticConsortium.fillKits(kits, new SyntheticConsortium.Settings(hospitals, samples, 0.5, seed))
          .forEach(kit -> System.out.println("data written and declared in " + kit.resolve("agent.yaml")));
      return 0;
    } catch (IllegalArgumentException e) {
      System.err.println("medfed-synthetic: " + e.getMessage());
      return 2;
    }
  }
}
