package org.medfed.nodeagent;

import io.grpc.ClientInterceptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.medfed.nodeagent.approval.ApprovalCommands;
import org.medfed.nodeagent.data.DataLoadException;
import org.medfed.nodeagent.data.DatasetLoaders;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.model.ModelCommands;
import org.medfed.nodeagent.privacy.PrivacyCommand;
import org.medfed.nodeagent.session.AgentConfig;
import org.medfed.nodeagent.session.AgentConfigLoader;
import org.medfed.nodeagent.session.AgentMetrics;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.nodeagent.training.TrainerChoice;
import org.medfed.nodeagent.training.Trainers;
import org.medfed.secagg.protocol.WarmUp;
import org.medfed.telemetry.OpsEndpoint;
import org.medfed.telemetry.WireBytes;
import org.medfed.trust.pki.IdentitySignatures;
import org.medfed.trust.tls.CoordinatorChannels;
import org.medfed.trust.tls.Tls;
import org.medfed.trust.tls.TlsFiles;
import org.medfed.trust.tls.TlsProblems;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code medfed-agent --config agent.yaml}: runs a hospital's node agent until stopped; its
 * subcommands let the hospital operator decide which jobs run, check the audit log, and evaluate or
 * predict with a model downloaded after training.
 * Exit codes: 0 stopped normally, 2 bad configuration or data, 3 refused by the coordinator,
 * 5 the audit log failed verification.
 */
@Command(name = "medfed-agent", mixinStandardHelpOptions = true, version = NodeAgent.SOFTWARE_VERSION,
    description = "Runs a hospital node agent: dials out to the coordinator and trains on local data.",
    subcommands = {ApprovalCommands.Jobs.class, ApprovalCommands.Show.class, ApprovalCommands.Approve.class,
        ApprovalCommands.Reject.class, ApprovalCommands.Audit.class, ModelCommands.Evaluate.class,
        ModelCommands.Predict.class, PrivacyCommand.class})
public final class AgentMain implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(AgentMain.class);

  /**
   * The HTTP/2 window of the agent's connection: 8 MiB, several model chunks in flight, so the
   * coordinator never waits for this agent's read of one chunk before sending the next (the
   * default 1 MiB holds less than one 1 MiB chunk). An agent downloads one model at a time.
   */
  public static final int DOWNLOAD_WINDOW_BYTES = 8 << 20;

  @Option(names = {"-c", "--config"}, description = "Agent configuration file (YAML).")
  Path config;

  @Option(names = "--verbose", description = "Print stack traces with errors.")
  boolean verbose;

  public static void main(String[] args) {
    System.exit(new CommandLine(new AgentMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (config == null) {
      System.err.println("medfed-agent: --config agent.yaml is required (see --help)");
      return 2;
    }
    AgentConfig agentConfig;
    List<LocalDataset> datasets;
    CoordinatorChannels channel;
    AgentMetrics metrics = AgentMetrics.unexposed();
    LocalTrainer trainer;
    try {
      agentConfig = AgentConfigLoader.load(config);
      trainer = trainer(agentConfig);
      datasets = agentConfig.datasets().stream().map(DatasetLoaders::load).toList();
      List<ClientInterceptor> counters = new ArrayList<>();
      if (agentConfig.metrics().isPresent()) {
        PrometheusMeterRegistry registry = OpsEndpoint.newRegistry();
        OpsEndpoint endpoint = OpsEndpoint.start(agentConfig.metrics().get(), registry);
        Runtime.getRuntime().addShutdownHook(new Thread(endpoint::close, "medfed-metrics-shutdown"));
        metrics = new AgentMetrics(registry);
        counters.add(new WireBytes(registry).clientInterceptor());
        System.out.println("Prometheus metrics on http://" + endpoint.address().getHostString() + ":"
            + endpoint.address().getPort() + "/metrics");
      }
      channel = channel(agentConfig, counters.toArray(ClientInterceptor[]::new));
    } catch (AgentConfigLoader.ConfigException | DataLoadException | IOException e) {
      System.err.println("medfed-agent: " + e.getMessage());
      if (verbose) {
        e.printStackTrace();
      }
      return 2;
    }
    datasets.forEach(d -> System.out.println("dataset " + d));
    NodeAgent agent = new NodeAgent(agentConfig, channel, datasets, trainer, metrics);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      agent.close();
      // A Spark trainer holds a SparkContext (and, on a cluster, its executors) until closed.
      if (trainer instanceof AutoCloseable closeable) {
        try {
          closeable.close();
        } catch (Exception e) {
          log.warn("closing trainer {} failed: {}", trainer, e.toString());
        }
      }
    }, "medfed-agent-shutdown"));
    // Cold, secure aggregation runs several times slower until the JIT has compiled its code.
    WarmUp.startInBackground(IdentitySignatures::warmUp);
    agent.start();
    String reason = agent.stopped().get();
    if (!"closed".equals(reason)) {
      System.err.println("medfed-agent: " + reason);
    }
    return "closed".equals(reason) ? 0 : 3;
  }

  /** The trainer agent.yaml chooses, made before any data is loaded so that a missing jar fails fast. */
  private static LocalTrainer trainer(AgentConfig config) {
    try {
      LocalTrainer trainer = Trainers.create(config.trainer());
      if (!config.trainer().kind().equals(TrainerChoice.DL4J)) {
        System.out.println("trainer " + trainer);
      }
      return trainer;
    } catch (IllegalArgumentException e) {
      throw new AgentConfigLoader.ConfigException(config.source().map(Path::toString).orElse("agent.yaml")
          + ": trainer: " + e.getMessage());
    }
  }

  /**
   * A channel to each coordinator address, with mutual TLS from the startup kit (each coordinator's
   * certificate must name the host dialled for it), or plaintext with a warning.
   */
  public static CoordinatorChannels channel(AgentConfig config, ClientInterceptor... interceptors) throws IOException {
    Optional<TlsFiles.Material> tls = checkedKit(config);
    return CoordinatorChannels.open(config.coordinators(), address -> (tls.isPresent()
        ? Tls.channel(address.host(), address.port(), tls.get())
        : NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext())
        .intercept(interceptors)
        .flowControlWindow(DOWNLOAD_WINDOW_BYTES)
        // Detect a dead coordinator (or a dead NAT mapping) within a minute, not at the next send.
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .keepAliveWithoutCalls(true)
        .build());
  }

  /** The startup kit after checking this machine's own certificate; empty, with a warning, in plaintext mode. */
  private static Optional<TlsFiles.Material> checkedKit(AgentConfig config) throws IOException {
    if (config.tls().isEmpty()) {
      log.warn("INSECURE: insecure_plaintext is set; this agent talks to the coordinator without TLS or a"
          + " certificate. Use only with a development coordinator on this machine.");
      return Optional.empty();
    }
    TlsFiles.Material material = config.tls().get().load();
    Optional<String> problem = TlsProblems.ownCertificateProblem(material.identity(), Instant.now());
    if (problem.isPresent()) {
      throw new IOException(problem.get());
    }
    if (!material.identity().name().equals(config.nodeId())) {
      throw new IOException("node_id '" + config.nodeId() + "' does not match the certificate's name '"
          + material.identity().name() + "'; use the node_id of your startup kit");
    }
    return Optional.of(material);
  }
}
