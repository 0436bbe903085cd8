package org.medfed.nodeagent.privacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.AgentMain;
import org.medfed.privacy.RdpCurve;
import org.medfed.privacy.SampledGaussian;
import picocli.CommandLine;

class PrivacyCommandTest {
  @TempDir Path dir;

  @Test
  void printsEachDatasetsBudgetSpentAndLeft_andEachJob() throws Exception {
    Path config = dir.resolve("agent.yaml");
    Files.writeString(config, """
        node_id: hospital-a
        coordinator: localhost:7443
        insecure_plaintext: true
        state_dir: state
        datasets:
          - {name: scans, kind: imaging, format: image_folders, location: x, classes: [a, b],
             privacy_budget: {epsilon: 8, delta: 1.0e-5, per: 365d}}
          - {name: genes, kind: genomic, format: csv_matrix, location: y, classes: [a, b]}
        """);
    PrivacyLedger ledger = new PrivacyLedger(dir.resolve("state"));
    long now = System.currentTimeMillis();
    ledger.charge(new PrivacyLedger.Charge("scans", "job-1", 1, 0.1, 1.2, 20, now));
    ledger.charge(new PrivacyLedger.Charge("scans", "job-1", 2, 0.1, 1.2, 20, now));
    double spent = SampledGaussian.steps(0.1, 1.2, 40, RdpCurve.DEFAULT_ORDERS).epsilon(1e-5).epsilon();

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = new CommandLine(new AgentMain()).execute("privacy", "--config", config.toString());
    } finally {
      System.setOut(original);
    }
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, printed);
    assertTrue(printed.contains(String.format(Locale.ROOT,
        "dataset scans: budget epsilon 8.000 per 365 d at delta 1e-05; spent %.3f, left %.3f%n  job job-1: 2 rounds,"
            + " epsilon %.3f", spent, 8 - spent, spent)), printed);
    assertTrue(printed.contains("dataset genes: no privacy budget; DP jobs spent epsilon 0.000 in all"), printed);
  }
}
