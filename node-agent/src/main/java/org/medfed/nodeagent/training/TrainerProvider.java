package org.medfed.nodeagent.training;

import java.util.Map;

/**
 * A {@link LocalTrainer} that lives in an optional jar, found with {@link java.util.ServiceLoader}
 * so that the agent does not depend on it (and agents that do not use it do not carry it). A jar
 * names its provider in {@code META-INF/services/org.medfed.nodeagent.training.TrainerProvider}.
 */
public interface TrainerProvider {

  /** The name agent.yaml uses for it in {@code trainer: {kind: ...}}. */
  String kind();

  /**
   * A trainer for these settings (agent.yaml's {@code trainer} section, less {@code kind}).
   *
   * @throws IllegalArgumentException naming the setting and the fix, when the settings are wrong
   */
  LocalTrainer create(Map<String, String> settings);
}
