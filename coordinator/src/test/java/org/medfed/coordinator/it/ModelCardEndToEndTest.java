package org.medfed.coordinator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.cli.MedfedCli;
import org.medfed.proto.v1.JobState;
import org.medfed.wire.Digests;

/** A downloaded model comes with its card, and `medfed audit verify --card` catches a changed card or model. */
class ModelCardEndToEndTest {
  @TempDir Path dir;

  @Test
  void theCardDescribesTheJob_andTheAuditLogCatchesAChangedCardOrModel() throws Exception {
    try (Federation federation = new Federation(dir.resolve("coordinator"))) {
      federation.agent("hospital-a", Blobs.dataset("expression", 1, 60, 20, 20));
      federation.agent("hospital-b", Blobs.dataset("expression", 2, 60, 20, 20));
      String jobId = federation.submit(FederatedTrainingTest.JOB.replace("rounds: 4", "rounds: 2")
          .replace("min_nodes: 3", "min_nodes: 2")).getJobId();
      federation.watch(jobId, Duration.ofMinutes(2));
      assertEquals(JobState.SUCCEEDED, federation.job(jobId).getSummary().getState());

      Path model = dir.resolve("download").resolve("model.zip");
      Files.createDirectories(model.getParent());
      byte[] zip = federation.download(jobId, 2);
      Files.write(model, zip);
      MedfedCli.writeCard(federation.admin, jobId, 2, zip, model);
      Path card = model.resolveSibling("model-card.json");
      Path log = federation.coordinator.auditLog();

      JsonNode content = new ObjectMapper().readTree(card.toFile());
      assertEquals(jobId, content.at("/job/id").asText());
      assertEquals(federation.job(jobId).getSummary().getDigest(), content.at("/job/approved_digest").asText());
      assertEquals(Digests.hex(Digests.sha256(zip)), content.at("/model/file_sha256").asText());
      assertEquals(2, content.at("/model/round").asInt());
      assertEquals(List.of("hospital-a", "hospital-b"), List.of(content.at("/rounds/0/participants/0").asText(),
          content.at("/rounds/0/participants/1").asText()));
      assertTrue(content.at("/rounds/1/evaluations/hospital-b/accuracy").isNumber(), content.toString());
      assertTrue(content.at("/audit_head/seq").asLong() > 0);
      assertTrue(Files.readString(model.resolveSibling("model-card.md")).startsWith("# Model card: blobs ("));

      CliRun intact = audit(log, card);
      assertEquals(0, intact.code(), intact.out());
      assertTrue(intact.out().contains("matches " + log + ", and so does the model file " + model), intact.out());

      // A better-looking metric in the card.
      String original = Files.readString(card);
      Files.writeString(card, original.replaceFirst("\"accuracy\" : 0\\.", "\"accuracy\" : 0.9"));
      CliRun changedCard = audit(log, card);
      assertEquals(5, changedCard.code(), changedCard.out());
      assertTrue(changedCard.out().contains("is not a card this coordinator issued, or it was changed since"),
          changedCard.out());

      // A replaced model file.
      Files.writeString(card, original);
      zip[zip.length / 2] ^= 1;
      Files.write(model, zip);
      CliRun changedModel = audit(log, card);
      assertEquals(5, changedModel.code(), changedModel.out());
      assertTrue(changedModel.out().contains("the model file was changed or replaced"), changedModel.out());
    }
  }

  private static CliRun audit(Path log, Path card) {
    return CliRun.of("audit", "verify", log.toString(), "--card", card.toString());
  }
}
