package org.medfed.nodeagent.approval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.medfed.nodeagent.session.AgentConfig;
import org.medfed.nodeagent.session.AgentConfigLoader;
import org.medfed.trust.audit.AuditVerifier;
import org.medfed.wire.JobDigest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The hospital operator's commands: list, show, approve and reject jobs; verify the agent's audit log. */
public final class ApprovalCommands {
  private ApprovalCommands() {}

  /** Finds the agent's state folder through its configuration. */
  static final class Agent {
    @Option(names = {"-c", "--config"}, required = true, description = "The agent's configuration file (agent.yaml).")
    Path config;

    AgentConfig load() {
      return AgentConfigLoader.load(config);
    }

    ApprovalStore store() {
      return new ApprovalStore(load().stateDir());
    }
  }

  @Command(name = "jobs", mixinStandardHelpOptions = true, description = "List jobs awaiting approval and decided digests.")
  public static final class Jobs implements Callable<Integer> {
    @Mixin Agent agent;

    @Override
    public Integer call() {
      ApprovalStore.State state = agent.store().read();
      System.out.println("awaiting approval:" + (state.pending().isEmpty() ? " none" : ""));
      state.pending().values().forEach(p -> System.out.printf("  %s  %s (%s) on dataset '%s', submitted by %s%n",
          JobDigest.shortForm(p.digest()), p.jobName(), p.jobId(), p.dataset(), p.submittedBy()));
      System.out.println("decided:" + (state.decisions().isEmpty() ? " none" : ""));
      state.decisions().forEach((digest, d) -> System.out.printf("  %s  %s by %s at %s%s%n", JobDigest.shortForm(digest),
          d.verdict().name().toLowerCase(), d.by(), d.at(), d.reason().isEmpty() ? "" : " (" + d.reason() + ")"));
      return 0;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show what a pending job would run.")
  public static final class Show implements Callable<Integer> {
    @Mixin Agent agent;

    @Parameters(paramLabel = "DIGEST", description = "The job digest or a unique prefix of it.")
    String digest;

    @Override
    public Integer call() {
      ApprovalStore store = agent.store();
      String full = store.resolve(digest);
      ApprovalStore.State state = store.read();
      ApprovalStore.Pending pending = state.pending().get(full);
      System.out.println("digest:   " + full);
      if (pending != null) {
        System.out.println("job:      " + pending.jobName() + " (" + pending.jobId() + "), " + pending.rounds()
            + " rounds, submitted by " + pending.submittedBy());
        System.out.println("dataset:  " + pending.dataset());
        System.out.println("model:    " + pending.modelSummary());
        System.out.println("training: " + pending.plan());
        System.out.println("privacy:  " + pending.privacy());
        System.out.println("received: " + pending.receivedAt());
      }
      ApprovalStore.Decision decision = state.decisions().get(full);
      System.out.println("decision: " + (decision == null ? "none yet" : decision.verdict().name().toLowerCase() + " by "
          + decision.by() + " at " + decision.at()));
      return 0;
    }
  }

  @Command(name = "approve", mixinStandardHelpOptions = true,
      description = "Approve a job digest: jobs with it may train on this hospital's data.")
  public static final class Approve implements Callable<Integer> {
    @Mixin Agent agent;

    @Parameters(paramLabel = "DIGEST", description = "The job digest or a unique prefix of it.")
    String digest;

    @Option(names = "--by", defaultValue = "${sys:user.name}", description = "Who decides (default: this user).")
    String by;

    @Override
    public Integer call() {
      String full = agent.store().decide(digest, ApprovalStore.Verdict.APPROVED, by, "");
      System.out.println("approved " + full + "; a running agent tells the coordinator within a second");
      return 0;
    }
  }

  @Command(name = "reject", mixinStandardHelpOptions = true, description = "Reject a job digest: it never runs here.")
  public static final class Reject implements Callable<Integer> {
    @Mixin Agent agent;

    @Parameters(paramLabel = "DIGEST", description = "The job digest or a unique prefix of it.")
    String digest;

    @Option(names = "--by", defaultValue = "${sys:user.name}", description = "Who decides (default: this user).")
    String by;

    @Option(names = "--reason", defaultValue = "", description = "Told to the coordinator and kept in the records.")
    String reason;

    @Override
    public Integer call() {
      String full = agent.store().decide(digest, ApprovalStore.Verdict.REJECTED, by, reason);
      System.out.println("rejected " + full);
      return 0;
    }
  }

  @Command(name = "audit", mixinStandardHelpOptions = true, description = "Verify this agent's audit log.")
  public static final class Audit implements Callable<Integer> {
    @Mixin Agent agent;

    @Override
    public Integer call() throws IOException {
      Path file = agent.load().stateDir().resolve("audit.log");
      if (!Files.isRegularFile(file)) {
        System.err.println("medfed-agent audit: no audit log at " + file + " (has the agent run yet?)");
        return 2;
      }
      AuditVerifier.Result result = AuditVerifier.verify(file);
      System.out.println(result.describe(file));
      return result.intact() ? 0 : 5;
    }
  }
}
