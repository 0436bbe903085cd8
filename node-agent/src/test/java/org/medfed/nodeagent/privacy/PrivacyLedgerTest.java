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
  void aTornLastLine_fromACrashMidWrite_isIgnored_butADamagedEarlierOneIsRefused() throws Exception {
    new PrivacyLedger(state).charge(charge("scans", "job-1", 1, 1_000));
    Path file = state.resolve("privacy-ledger.jsonl");
    Files.writeString(file, "{\"dataset\":\"scans\",\"jobId\":\"jo", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    assertEquals(1, new PrivacyLedger(state).charges().size());

    Files.writeString(file, "\n" + Files.readString(file).lines().findFirst().orElseThrow() + "\n",
        StandardOpenOption.APPEND);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> new PrivacyLedger(state));
    assertTrue(e.getMessage().contains("line 2 is damaged") && e.getMessage().contains("restore it from a backup"),
        e.getMessage());
  }
}
