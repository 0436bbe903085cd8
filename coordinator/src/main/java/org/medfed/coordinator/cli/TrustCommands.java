package org.medfed.coordinator.cli;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.medfed.trust.audit.AuditVerifier;
import org.medfed.trust.audit.WitnessCheck;
import org.medfed.trust.pki.CertificateAuthority;
import org.medfed.trust.pki.Role;
import org.medfed.trust.provision.ConsortiumFile;
import org.medfed.trust.provision.Provisioner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The consortium operator's trust commands: provision kits, revoke a certificate, verify an audit log. */
final class TrustCommands {
  private TrustCommands() {}

  @Command(name = "provision", mixinStandardHelpOptions = true,
      description = {"Create the consortium CA and a startup kit per participant from a consortium file.",
          "Run again after adding participants: only the new ones get kits; existing kits are kept."})
  static final class Provision implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONSORTIUM_FILE", description = "consortium.yaml")
    Path consortium;

    @Option(names = {"-o", "--out"}, defaultValue = "kits", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
      ConsortiumFile file;
      try {
        file = ConsortiumFile.read(consortium);
      } catch (ConsortiumFile.InvalidConsortiumException | NoSuchFileException e) {
        System.err.println("medfed provision: " + e.getMessage());
        return MedfedCli.BAD_INPUT;
      }
      Provisioner.Report report = new Provisioner(Clock.systemUTC()).provision(file, out);
      System.out.println("consortium '" + file.consortium() + "': CA in " + report.caDir()
          + " (keep ca.key offline; it signs every certificate)");
      report.created().forEach(kit -> System.out.println("  created " + kit));
      report.kept().forEach(kit -> System.out.println("  kept    " + kit + " (already provisioned)"));
      return MedfedCli.OK;
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = {"Revoke a hospital's or admin's certificate. The running coordinator re-reads the",
          "revocation list and closes the node's session within seconds; no restart."})
  static final class Revoke implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME", description = "The hospital or admin name in the consortium file.")
    String name;

    @Option(names = "--role", defaultValue = "hospital", description = "hospital or admin (default: ${DEFAULT-VALUE}).")
    String role;

    @Option(names = "--kits", defaultValue = "kits",
        description = "The folder `medfed provision` wrote (default: ${DEFAULT-VALUE}).")
    Path kits;

    @Option(names = "--reason", defaultValue = "unspecified", description = "Recorded in the CA's revocation records.")
    String reason;

    @Override
    public Integer call() throws Exception {
      Role parsed = Role.ofUnit(role).filter(r -> r != Role.COORDINATOR).orElse(null);
      if (parsed == null) {
        System.err.println("medfed revoke: --role must be hospital or admin, got '" + role + "'");
        return MedfedCli.BAD_INPUT;
      }
      CertificateAuthority ca;
      List<BigInteger> revoked;
      try {
        ca = CertificateAuthority.load(kits.resolve("ca"));
        revoked = ca.revoke(name, parsed, reason, Instant.now());
      } catch (IOException e) {
        System.err.println("medfed revoke: " + e.getMessage());
        return MedfedCli.BAD_INPUT;
      }
      Path published = Provisioner.publishCrl(ca, kits);
      if (revoked.isEmpty()) {
        System.out.println(parsed.unit() + " '" + name + "' was already revoked");
      } else {
        revoked.forEach(serial -> System.out.println("revoked " + parsed.unit() + " '" + name + "' certificate serial "
            + serial.toString(16)));
      }
      System.out.println("revocation list: " + ca.crlFile() + ", published to " + published
          + " (copy it to the coordinator's kit if the coordinator runs elsewhere)");
      return MedfedCli.OK;
    }
  }

  @Command(name = "audit", mixinStandardHelpOptions = true,
      description = {"Verify an audit log's hash chain; reports the first edited, deleted or reordered record.",
          "With --witness, also checks it against the coordinator heads hospitals recorded in their own logs,",
          "which reveals records cut from the end or a chain rewritten from some record on."})
  static final class Audit implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "verify", description = "The action (only `verify`).")
    String action;

    @Parameters(index = "1", paramLabel = "AUDIT_LOG", description = "The log file, e.g. data/audit.log.")
    Path file;

    @Option(names = "--card", description = "Also check a model card (model-card.json from `medfed download`)"
        + " against the log.")
    Path card;

    @Option(names = "--model", description = "With --card: the model file the card describes (default: model.zip"
        + " beside the card, if there).")
    Path model;

    @Option(names = "--witness", paramLabel = "AGENT_LOG", description = "A hospital agent's audit log"
        + " (state_dir/audit.log); repeat for each hospital.")
    List<Path> witnesses = List.of();

    @Override
    public Integer call() throws Exception {
      if (!action.equals("verify")) {
        System.err.println("medfed audit: unknown action '" + action + "'; use `medfed audit verify FILE`");
        return MedfedCli.BAD_INPUT;
      }
      int chain = verify(file);
      if (chain != MedfedCli.OK) {
        return chain;
      }
      int witnessed = witnessed(file, witnesses);
      if (witnessed != MedfedCli.OK || card == null) {
        return witnessed;
      }
      if (!Files.isRegularFile(card)) {
        System.err.println("medfed audit: no model card at " + card);
        return MedfedCli.BAD_INPUT;
      }
      Optional<Path> described = Optional.ofNullable(model)
          .or(() -> Optional.of(card.resolveSibling("model.zip")).filter(Files::isRegularFile));
      List<String> problems = ModelCardCheck.problems(file, card, described);
      if (problems.isEmpty()) {
        System.out.println("model card " + card + " matches " + file
            + described.map(m -> ", and so does the model file " + m).orElse(" (no model file checked)"));
        return MedfedCli.OK;
      }
      problems.forEach(p -> System.out.println("MISMATCH: " + p));
      return MedfedCli.AUDIT_BROKEN;
    }

    static int witnessed(Path file, List<Path> witnesses) throws IOException {
      if (witnesses.isEmpty()) {
        return MedfedCli.OK;
      }
      Optional<Path> missing = witnesses.stream().filter(w -> !Files.isRegularFile(w)).findFirst();
      if (missing.isPresent()) {
        System.err.println("medfed audit: no witness log at " + missing.get());
        return MedfedCli.BAD_INPUT;
      }
      WitnessCheck.Report report = WitnessCheck.check(file, witnesses);
      report.findings().forEach(finding -> System.out.println("MISMATCH: " + finding));
      if (!report.agrees()) {
        return MedfedCli.AUDIT_BROKEN;
      }
      System.out.println(report.matched() + " heads witnessed by " + witnesses.size() + " hospital log(s) match " + file);
      return MedfedCli.OK;
    }

    static int verify(Path file) throws IOException {
      if (!Files.isRegularFile(file)) {
        System.err.println("medfed audit: no audit log at " + file);
        return MedfedCli.BAD_INPUT;
      }
      AuditVerifier.Result result = AuditVerifier.verify(file);
      System.out.println(result.describe(file));
      return result.intact() ? MedfedCli.OK : MedfedCli.AUDIT_BROKEN;
    }
  }
}
