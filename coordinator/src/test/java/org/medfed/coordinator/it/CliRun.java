package org.medfed.coordinator.it;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.medfed.coordinator.cli.MedfedCli;

/** One `medfed` command run in-process: its exit code and what it printed to standard output. */
record CliRun(int code, String out) {
  static CliRun of(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      int code = MedfedCli.run(args);
      return new CliRun(code, out.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(original);
    }
  }
}
