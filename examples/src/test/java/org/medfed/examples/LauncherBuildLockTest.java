package org.medfed.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bin/ launchers' first build, started six times at once as a hospital's operator starts agents
 * in separate terminals: exactly one runs the build, the others wait for it and then all go on. The
 * build is a stand-in that takes a second and counts its runs, so the lock is what is tested;
 * a real clean-tree run is recorded in docs/operations.md.
 */
class LauncherBuildLockTest {
  private static final Path LAUNCHER_LIBRARY = Path.of("..", "bin", "_classpath").toAbsolutePath().normalize();

  @TempDir Path dir;

  @Test
  void sixLaunchersAtOnce_buildOnce_andAllFindTheTreeBuilt() throws Exception {
    assertEquals(6, runConcurrently(6, "flock available"));
  }

  @Test
  void withoutFlock_theMkdirLockDoesTheSame() throws Exception {
    assertEquals(6, runConcurrently(6, "no flock"));
  }

  /** @return how many launchers exited 0 having seen the built tree; asserts the build ran once */
  private int runConcurrently(int launchers, String mode) throws IOException, InterruptedException {
    assumeTrue(Files.exists(Path.of("/bin/bash")) || Files.exists(Path.of("/usr/bin/bash")), "needs bash");
    Path built = dir.resolve("built");
    Path runs = dir.resolve("build-runs");
    String hideFlock = mode.equals("no flock") ? "flock() { return 127; }; command() { [ \"$2\" = flock ] && return 1;"
        + " builtin command \"$@\"; }; " : "";
    String script = hideFlock + "source '" + LAUNCHER_LIBRARY + "'; "
        + "medfed_build_once '" + dir.resolve("target/launcher-build.lock") + "' \"[ -f '" + built + "' ]\" "
        + "\"echo run >> '" + runs + "'; sleep 1; touch '" + built + "'\" && [ -f '" + built + "' ]";
    List<Process> processes = new ArrayList<>();
    for (int i = 0; i < launchers; i++) {
      processes.add(new ProcessBuilder("bash", "-c", script).redirectErrorStream(true)
          .redirectOutput(dir.resolve("launcher-" + i + ".log").toFile()).start());
    }
    int succeeded = 0;
    for (Process process : processes) {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("a launcher still waits after 60 s: the lock was never released");
      }
      succeeded += process.exitValue() == 0 ? 1 : 0;
    }
    assertEquals(1, Files.readAllLines(runs).size(), "build runs: " + Files.readAllLines(runs));
    return succeeded;
  }
}
