package org.medfed.examples.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the "round CPU:" line that an agent logs after each training round (TaskRunner): its fields
 * are {@code name=value} pairs, CPU times in microseconds. The figures stay in the hospital's log
 * (docs/benchmarks.md says why); the benchmark owns the agents' processes and reads their logs.
 */
final class RoundCpuLog {
  private static final String MARKER = "round CPU: ";
  private static final Pattern FIELD = Pattern.compile("(\\w+)=(\\S+)");

  /** The fields of the line for one job's round, or empty if the log has no such line (yet). */
  static Optional<Map<String, String>> find(Path log, String jobId, int round) {
    try {
      for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
        Optional<Map<String, String>> fields = parse(line);
        if (fields.isPresent() && jobId.equals(fields.get().get("job"))
            && Integer.toString(round).equals(fields.get().get("round"))) {
          return fields;
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read agent log " + log, e);
    }
  }

  /** The fields of one log line, if it is a round-CPU line. */
  static Optional<Map<String, String>> parse(String line) {
    int at = line.indexOf(MARKER);
    if (at < 0) {
      return Optional.empty();
    }
    Map<String, String> fields = new LinkedHashMap<>();
    Matcher matcher = FIELD.matcher(line.substring(at + MARKER.length()));
    while (matcher.find()) {
      fields.put(matcher.group(1), matcher.group(2));
    }
    return Optional.of(fields);
  }

  /** A field's microseconds as nanoseconds; a missing field is a log of another version, not zero. */
  static long nanos(Map<String, String> fields, String name) {
    String value = fields.get(name);
    if (value == null) {
      throw new IllegalArgumentException("round-CPU line has no field '" + name + "': " + fields);
    }
    return Long.parseLong(value) * 1_000;
  }

  private RoundCpuLog() {}
}
