package org.medfed.sparktrainer;

import java.util.Map;
import java.util.TreeSet;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.nodeagent.training.TrainerProvider;

/**
 * {@code trainer: {kind: spark, master: "local[4,3]", partitions: 4, spark.executor.memory: 8g}} in
 * agent.yaml. {@code master} is any Spark master URL; {@code partitions} defaults to Spark's default
 * parallelism; keys starting with {@code spark.} go to Spark's configuration as they are. Spark's
 * web UI stays off unless {@code spark.ui.enabled: true}, as an agent otherwise opens no port.
 */
public final class SparkTrainerProvider implements TrainerProvider {
  public static final String KIND = "spark";

  @Override
  public String kind() {
    return KIND;
  }

  /** Starts a SparkContext on the master; the trainer stops it when closed. */
  @Override
  public LocalTrainer create(Map<String, String> settings) {
    TreeSet<String> unknown = new TreeSet<>(settings.keySet());
    unknown.removeIf(key -> key.equals("master") || key.equals("partitions") || key.startsWith("spark."));
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("unknown spark trainer settings " + unknown + "; expected master,"
          + " partitions and spark.* configuration keys");
    }
    String master = settings.get("master");
    if (master == null || master.isBlank()) {
      throw new IllegalArgumentException("the spark trainer needs a master: local[N] (N threads in the agent's JVM;"
          + " local[N,F] to retry a failed partition F-1 times), spark://host:7077, or yarn");
    }
    int partitions = partitions(settings.getOrDefault("partitions", "0"));
    SparkConf conf = new SparkConf().setMaster(master).setAppName("medfed-agent").set("spark.ui.enabled", "false");
    settings.forEach((key, value) -> {
      if (key.startsWith("spark.")) {
        conf.set(key, value);
      }
    });
    JavaSparkContext spark;
    try {
      spark = new JavaSparkContext(conf);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("cannot start Spark on master '" + master + "': " + e.getMessage(), e);
    }
    return new SparkTrainer(spark, true, partitions, PartitionFit.DL4J);
  }

  private static int partitions(String value) {
    try {
      int partitions = Integer.parseInt(value.trim());
      if (partitions >= 1 || value.equals("0")) {
        return partitions;
      }
    } catch (NumberFormatException e) {
      // Reported below with the value.
    }
    throw new IllegalArgumentException("partitions must be a whole number >= 1, got '" + value + "'");
  }
}
