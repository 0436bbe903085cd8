package org.medfed.nodeagent.privacy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.medfed.nodeagent.session.AgentConfig;
import org.medfed.nodeagent.session.AgentConfigLoader;
import org.medfed.privacy.RdpCurve;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code medfed-agent privacy --config agent.yaml}: the hospital's privacy ledger, per dataset: its
 * budget, what the DP jobs spent within the budget's window and what is left, and each job's spending.
 */
@Command(name = "privacy", mixinStandardHelpOptions = true,
    description = "Print the privacy ledger: per dataset the budget, epsilon spent and left in its window, and per job.")
public final class PrivacyCommand implements Callable<Integer> {
  /** At which delta a dataset without a budget reports its spending. */
  private static final double DEFAULT_DELTA = 1e-5;

  @Option(names = {"-c", "--config"}, required = true, description = "The agent's configuration file (agent.yaml).")
  Path config;

  @Override
  public Integer call() {
    AgentConfig agent = AgentConfigLoader.load(config);
    PrivacyLedger ledger = new PrivacyLedger(agent.stateDir());
    Instant now = Instant.now();
    agent.datasets().forEach(dataset -> {
      PrivacyBudget budget = agent.privacyBudgets().get(dataset.name());
      if (budget == null) {
        double spent = ledger.spentOn(dataset.name(), Instant.EPOCH).epsilon(DEFAULT_DELTA).epsilon();
        System.out.printf(Locale.ROOT, "dataset %s: no privacy budget; DP jobs spent epsilon %.3f in all (delta %.0e)%n",
            dataset.name(), spent, DEFAULT_DELTA);
      } else {
        double spent = ledger.spentOn(dataset.name(), now.minus(budget.window())).epsilon(budget.delta()).epsilon();
        System.out.printf(Locale.ROOT, "dataset %s: budget epsilon %.3f per %d d at delta %.0e; spent %.3f, left %.3f%n",
            dataset.name(), budget.epsilon(), budget.window().toDays(), budget.delta(), spent,
            Math.max(0, budget.epsilon() - spent));
      }
      double delta = budget == null ? DEFAULT_DELTA : budget.delta();
      Map<String, Integer> rounds = new TreeMap<>();
      ledger.charges().stream().filter(c -> c.dataset().equals(dataset.name()))
          .forEach(c -> rounds.merge(c.jobId(), 1, Integer::sum));
      rounds.forEach((job, count) -> {
        RdpCurve spentByJob = ledger.spentBy(job);
        System.out.printf(Locale.ROOT, "  job %s: %d rounds, epsilon %.3f%n", job, count,
            spentByJob.epsilon(delta).epsilon());
      });
    });
    return 0;
  }
}
