package org.medfed.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PrivacyCommandsTest {

  @Test
  void epsilon_printsTheImprovedAndTheBasicConversion_onTwoLines() {
    assertEquals("epsilon 0.9220\nepsilon_basic 1.1597\n", run("privacy", "epsilon", "--sample-rate", "0.004",
        "--noise-multiplier", "1.3", "--steps", "3750", "--delta", "1e-5"));
  }

  @Test
  void noise_findsTheMultiplierForATarget() {
    String printed = run("privacy", "noise", "--sample-rate", "0.004", "--steps", "3750", "--epsilon", "0.922");
    double sigma = Double.parseDouble(printed.trim().split(" ")[1]);
    assertEquals(1.3, sigma, 0.005, printed);
  }

  private static String run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, MedfedCli.run(args));
    } finally {
      System.setOut(original);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
