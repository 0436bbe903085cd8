package org.medfed.nodeagent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class AgentMainTest {
  @TempDir Path dir;

  @Test
  void start_sparkTrainerWithoutItsJar_exitsWith2AndOneLineSayingWhatToAdd() throws Exception {
    Path config = dir.resolve("agent.yaml");
    Files.writeString(config, """
        node_id: hospital-a
        coordinator: localhost:7443
        insecure_plaintext: true
        trainer: {kind: spark, master: "local[2]"}
        datasets:
          - {name: genes, kind: genomic, format: csv_matrix, location: missing, classes: [a, b]}
        """);

    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream original = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = new CommandLine(new AgentMain()).execute("--config", config.toString());
    } finally {
      System.setErr(original);
    }

    String printed = err.toString(StandardCharsets.UTF_8);
    assertEquals(2, code, printed);
    // Before the datasets load: the missing jar is reported, not the missing data folder.
    assertTrue(printed.startsWith("medfed-agent: " + config + ": trainer: trainer kind 'spark' is not on this"
        + " agent's classpath"), printed);
    assertTrue(printed.contains("MEDFED_AGENT_SPARK=1"), printed);
    assertEquals(1, printed.strip().lines().count(), printed);
  }
}
