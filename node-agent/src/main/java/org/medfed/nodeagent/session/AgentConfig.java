package org.medfed.nodeagent.session;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.privacy.PrivacyBudget;
import org.medfed.nodeagent.training.TrainerChoice;
import org.medfed.trust.tls.CoordinatorAddress;
import org.medfed.trust.tls.TlsFiles;
import org.medfed.wire.ProtocolVersion;

/**
 * A hospital agent's configuration: who it is, where the coordinator is (or the coordinators: the
 * active one and its standbys, tried in this order), which local datasets it
 * offers, its TLS identity (empty only in plaintext development mode), and where its approvals and
 * audit log live. {@code metrics}, when set, is where Prometheus scrapes the agent (off by default:
 * an agent otherwise opens no port at all). {@code maxConcurrentTasks} is how many tasks, of
 * different jobs, the agent runs side by side; the coordinator never asks for more.
 * {@code privacyBudgets} caps, per dataset name, what the DP jobs on it may spend together.
 * {@code trainer} chooses the local trainer (DL4J in this JVM unless agent.yaml names another).
 */
public record AgentConfig(String nodeId, List<CoordinatorAddress> coordinators, List<DatasetDeclaration> datasets,
    Backoff backoff, Duration heartbeatInterval, Optional<TlsFiles> tls, Path stateDir, boolean autoApproveJobs,
    Optional<Path> source, Optional<InetSocketAddress> metrics, int maxConcurrentTasks,
    Map<String, PrivacyBudget> privacyBudgets, TrainerChoice trainer) {
  public AgentConfig {
    Objects.requireNonNull(nodeId, "nodeId");
    if (!nodeId.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      throw new IllegalArgumentException("node_id '" + nodeId
          + "' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    if (coordinators.isEmpty()) {
      throw new IllegalArgumentException("agent '" + nodeId + "' names no coordinator; give host:port");
    }
    coordinators = List.copyOf(coordinators);
    if (datasets.isEmpty()) {
      throw new IllegalArgumentException("agent '" + nodeId + "' declares no datasets; add at least one under 'datasets'");
    }
    if (datasets.stream().map(DatasetDeclaration::name).distinct().count() != datasets.size()) {
      throw new IllegalArgumentException("agent '" + nodeId + "' declares a dataset name twice");
    }
    datasets = List.copyOf(datasets);
    Objects.requireNonNull(backoff, "backoff");
    Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(trainer, "trainer");
    privacyBudgets = Map.copyOf(privacyBudgets);
    for (String dataset : privacyBudgets.keySet()) {
      if (datasets.stream().noneMatch(d -> d.name().equals(dataset))) {
        throw new IllegalArgumentException("a privacy budget names dataset '" + dataset + "', which is not declared");
      }
    }
    if (maxConcurrentTasks < 1 || maxConcurrentTasks > ProtocolVersion.MAX_CONCURRENT_TASKS) {
      throw new IllegalArgumentException("max_concurrent_tasks must be in 1.." + ProtocolVersion.MAX_CONCURRENT_TASKS
          + ", got " + maxConcurrentTasks);
    }
  }

  /** One coordinator, one task at a time. */
  public AgentConfig(String nodeId, String coordinatorHost, int coordinatorPort, List<DatasetDeclaration> datasets,
      Backoff backoff, Duration heartbeatInterval, Optional<TlsFiles> tls, Path stateDir, boolean autoApproveJobs,
      Optional<Path> source, Optional<InetSocketAddress> metrics) {
    this(nodeId, List.of(new CoordinatorAddress(coordinatorHost, coordinatorPort)), datasets, backoff,
        heartbeatInterval, tls, stateDir, autoApproveJobs, source, metrics, 1, Map.of(), TrainerChoice.dl4j());
  }

  /** One coordinator without a metrics endpoint, as tests and embedded agents run. */
  public AgentConfig(String nodeId, String coordinatorHost, int coordinatorPort, List<DatasetDeclaration> datasets,
      Backoff backoff, Duration heartbeatInterval, Optional<TlsFiles> tls, Path stateDir, boolean autoApproveJobs,
      Optional<Path> source) {
    this(nodeId, coordinatorHost, coordinatorPort, datasets, backoff, heartbeatInterval, tls, stateDir,
        autoApproveJobs, source, Optional.empty());
  }

  /** The operator's approve command for this agent, without the digest. */
  public String approveCommand() {
    return "medfed-agent approve --config " + source.map(Path::toString).orElse("agent.yaml");
  }

  /** The same agent dialling {@code addresses} in this order. */
  public AgentConfig withCoordinators(List<CoordinatorAddress> addresses) {
    return new AgentConfig(nodeId, addresses, datasets, backoff, heartbeatInterval, tls, stateDir, autoApproveJobs,
        source, metrics, maxConcurrentTasks, privacyBudgets, trainer);
  }

  public AgentConfig withTls(TlsFiles files) {
    return new AgentConfig(nodeId, coordinators, datasets, backoff, heartbeatInterval,
        Optional.of(files), stateDir, autoApproveJobs, source, metrics, maxConcurrentTasks, privacyBudgets, trainer);
  }

  public AgentConfig withMaxConcurrentTasks(int tasks) {
    return new AgentConfig(nodeId, coordinators, datasets, backoff, heartbeatInterval, tls,
        stateDir, autoApproveJobs, source, metrics, tasks, privacyBudgets, trainer);
  }

  public AgentConfig withPrivacyBudget(String dataset, PrivacyBudget budget) {
    Map<String, PrivacyBudget> budgets = new HashMap<>(privacyBudgets);
    budgets.put(dataset, budget);
    return new AgentConfig(nodeId, coordinators, datasets, backoff, heartbeatInterval, tls,
        stateDir, autoApproveJobs, source, metrics, maxConcurrentTasks, budgets, trainer);
  }
}
