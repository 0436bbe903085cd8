package org.medfed.nodeagent.privacy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.privacy.RdpCurve;
import org.medfed.privacy.SampledGaussian;

class PrivacyLedgerTest {
  @TempDir Path state;

  private static PrivacyLedger.Charge charge(String dataset, String job, int round, long at) {
    return new PrivacyLedger.Charge(dataset, job, round, 0.1, 1.2, 20, at);
  }

  @Test
  void chargesSurviveReopening_andComposePerJobAndPerDatasetWindow() {
    PrivacyLedger ledger = new PrivacyLedger(state);
    ledger.charge(charge("scans", "job-1", 1, 1_000));
    ledger.charge(charge("scans", "job-1", 2, 2_000));
    ledger.charge(charge("scans", "job-2", 1, 3_000));
    ledger.charge(charge("genes", "job-3", 1, 3_000));

    PrivacyLedger reopened = new PrivacyLedger(state);
    RdpCurve oneRound = SampledGaussian.steps(0.1, 1.2, 20, RdpCurve.DEFAULT_ORDERS);
    assertArrayEquals(oneRound.times(2).epsilons(), reopened.spentBy("job-1").epsilons(), 1e-12);
    assertArrayEquals(oneRound.times(3).epsilons(), reopened.spentOn("scans", Instant.ofEpochMilli(0)).epsilons(),
        1e-12, "a second job on the same dataset sees the first one's spending");
    assertArrayEquals(oneRound.epsilons(), reopened.spentOn("scans", Instant.ofEpochMilli(2_500)).epsilons(), 1e-12,
        "only charges inside the window count");
  }

  @Test
  void aTornLastLine_fromACrashMidWrite_isCut_soLaterChargesStillRead_butADamagedEarlierLineIsRefused()
      throws Exception {
    new PrivacyLedger(state).charge(charge("scans", "job-1", 1, 1_000));
    Path file = state.resolve("privacy-ledger.jsonl");
    Files.writeString(file, "{\"dataset\":\"scans\",\"jobId\":\"jo", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    PrivacyLedger afterCrash = new PrivacyLedger(state);
    assertEquals(1, afterCrash.charges().size());
    afterCrash.charge(charge("scans", "job-1", 2, 2_000));
    assertEquals(2, new PrivacyLedger(state).charges().size(), "the next charge starts a line of its own");

    Files.writeString(file, "garbage\n" + Files.readString(file), StandardOpenOption.TRUNCATE_EXISTING);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> new PrivacyLedger(state));
    assertTrue(e.getMessage().contains("line 1 is damaged") && e.getMessage().contains("restore it from a backup"),
        e.getMessage());
  }

  @Test
  void aSigkilledAgent_keepsEveryChargeThatReturned() throws Exception {
    Process writer = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
        System.getProperty("java.class.path"), LedgerWriter.class.getName(), state.toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    int returned = 0;
    try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(writer.getInputStream(),
        StandardCharsets.UTF_8))) {
      // Killed while it charges on, so the kill lands between, or in the middle of, later writes.
      while (returned < 25) {
        String line = lines.readLine();
        assertTrue(line != null, "the writer stopped after " + returned + " charges");
        returned = Integer.parseInt(line.substring("charged ".length()));
      }
      writer.destroyForcibly().waitFor();
    }

    PrivacyLedger reopened = new PrivacyLedger(state);
    int kept = reopened.charges().size();
    assertTrue(kept >= returned, kept + " charges kept, but " + returned + " had returned before the SIGKILL");
    for (int round = 1; round <= kept; round++) {
      assertEquals(round, reopened.charges().get(round - 1).round());
    }
    reopened.charge(charge("scans", "job-1", kept + 1, 5_000));
    assertEquals(kept + 1, new PrivacyLedger(state).charges().size());
  }

  /** Charges round after round until killed, saying after each charge has returned. */
  static final class LedgerWriter {
    public static void main(String[] args) {
      PrivacyLedger ledger = new PrivacyLedger(Path.of(args[0]));
      for (int round = 1; ; round++) {
        ledger.charge(charge("scans", "job-1", round, 1_000L + round));
        System.out.println("charged " + round);
        System.out.flush();
      }
    }
  }
}
