package org.medfed.nodeagent;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.medfed.nodeagent.data.DataLoadException;
import org.medfed.nodeagent.data.DatasetLoaders;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.AgentConfig;
import org.medfed.nodeagent.session.AgentConfigLoader;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.nodeagent.training.Dl4jTrainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code medfed-agent --config agent.yaml}: runs a hospital's node agent until stopped. */
@Command(name = "medfed-agent", mixinStandardHelpOptions = true, version = NodeAgent.SOFTWARE_VERSION,
    description = "Runs a hospital node agent: dials out to the coordinator and trains on local data.")
public final class AgentMain implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, required = true, description = "Agent configuration file (YAML).")
  Path config;

  @Option(names = "--verbose", description = "Print stack traces with errors.")
  boolean verbose;

  public static void main(String[] args) {
    System.exit(new CommandLine(new AgentMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    AgentConfig agentConfig;
    List<LocalDataset> datasets;
    try {
      agentConfig = AgentConfigLoader.load(config);
      datasets = agentConfig.datasets().stream().map(DatasetLoaders::load).toList();
    } catch (AgentConfigLoader.ConfigException | DataLoadException e) {
      System.err.println("medfed-agent: " + e.getMessage());
      if (verbose) {
        e.printStackTrace();
      }
      return 2;
    }
    datasets.forEach(d -> System.out.println("dataset " + d));
    ManagedChannel channel = NettyChannelBuilder
        .forAddress(agentConfig.coordinatorHost(), agentConfig.coordinatorPort())
        .usePlaintext()
        // Detect a dead coordinator (or a dead NAT mapping) within a minute, not at the next send.
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .keepAliveWithoutCalls(true)
        .build();
    NodeAgent agent = new NodeAgent(agentConfig, channel, datasets, new Dl4jTrainer());
    Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "medfed-agent-shutdown"));
    // Cold, secure aggregation runs several times slower until the JIT has compiled its code.
    org.medfed.secagg.protocol.WarmUp.startInBackground();
    agent.start();
    String reason = agent.stopped().get();
    return "closed".equals(reason) ? 0 : 3;
  }
}
