package org.medfed.coordinator.cli;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.medfed.proto.v1.RoundRecord;

/**
 * How the CLI prints a round's metrics. Values recovered from a secure-aggregation sum carry its
 * quantization error (docs/security.md gives the bound), so a count prints as the integer it is and
 * a value within rounding of zero prints as 0, never as a negative zero.
 */
final class MetricText {
  private MetricText() {}

  /** {@code name=value} pairs in name order, separated by spaces. */
  static String of(Map<String, Double> metrics) {
    return new TreeMap<>(metrics).entrySet().stream().map(e -> e.getKey() + "=" + value(e.getKey(), e.getValue()))
        .collect(Collectors.joining(" "));
  }

  /**
   * One line per hospital: its own evaluation of the round's global model, "hospital-a  accuracy=0.9100
   * samples=40", and, when the job trains local-only baselines, what federation bought it:
   * "(federated - local-only: accuracy +0.1300)".
   */
  static List<String> byHospital(RoundRecord round) {
    int width = round.getEvaluationsMap().keySet().stream().mapToInt(String::length).max().orElse(0);
    return new TreeMap<>(round.getEvaluationsMap()).entrySet().stream()
        .map(e -> String.format(Locale.ROOT, "%-" + width + "s  %s%s", e.getKey(), of(e.getValue().getMetricsMap()),
            gains(e.getValue().getMetricsMap())))
        .toList();
  }

  /** Each metric that has a local-only twin, as federated minus local-only; empty without a baseline. */
  static String gains(Map<String, Double> metrics) {
    String gains = new TreeMap<>(metrics).entrySet().stream()
        .filter(e -> metrics.containsKey("local_" + e.getKey()))
        .map(e -> e.getKey() + " " + signed(e.getValue() - metrics.get("local_" + e.getKey())))
        .collect(Collectors.joining(", "));
    return gains.isEmpty() ? "" : "  (federated - local-only: " + gains + ")";
  }

  private static String signed(double difference) {
    String text = value("difference", difference);
    return text.startsWith("-") || !Double.isFinite(difference) ? text : "+" + text;
  }

  static String value(String name, double value) {
    if (!Double.isFinite(value)) {
      return Double.toString(value);
    }
    if (isCount(name) || value == Math.rint(value)) {
      return Long.toString(Math.round(value));
    }
    String text = String.format(Locale.ROOT, "%.4f", value);
    // -0.00001 rounds to "-0.0000": the sign of a value too small to print is noise.
    return text.matches("-0\\.0+") ? text.substring(1) : text;
  }

  /** Sample and node counts: integers however they travelled. */
  static boolean isCount(String name) {
    return name.endsWith("samples") || name.endsWith("nodes") || name.endsWith("contributors");
  }
}
