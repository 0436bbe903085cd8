package org.medfed.nodeagent.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.DicomWindow;
import org.medfed.nodeagent.data.ImagePreprocessing;
import org.medfed.nodeagent.data.VolumePreprocessing;
import org.medfed.nodeagent.privacy.PrivacyBudget;
import org.medfed.nodeagent.training.TrainerChoice;
import org.medfed.trust.tls.CoordinatorAddress;

class AgentConfigLoaderTest {
  @TempDir Path dir;

  private Path write(String yaml) throws Exception {
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  @Test
  void load_validFile_resolvesLocationsAgainstTheFilesFolder() throws Exception {
    AgentConfig config = AgentConfigLoader.load(write("""
        node_id: hospital-a
        coordinator: coord.example.org:7443
        tls: {certificate: kit/hospital-a.crt, private_key: kit/hospital-a.key, ca: kit/ca.crt}
        datasets:
          - name: scans
            kind: imaging
            format: image_folders
            location: data/scans
            classes: [normal, nodule]
        """));

    assertEquals("hospital-a", config.nodeId());
    assertEquals(List.of(new CoordinatorAddress("coord.example.org", 7443)), config.coordinators());
    assertEquals(DatasetKind.IMAGING, config.datasets().get(0).kind());
    assertEquals(DatasetFormat.IMAGE_FOLDERS, config.datasets().get(0).format());
    assertEquals(dir.resolve("data/scans").toAbsolutePath(), config.datasets().get(0).location());
    assertEquals(List.of("normal", "nodule"), config.datasets().get(0).classes());
    assertEquals(dir.resolve("kit/hospital-a.key").toAbsolutePath(), config.tls().orElseThrow().privateKey());
    assertEquals(dir.resolve("state").toAbsolutePath(), config.stateDir());
    assertFalse(config.autoApproveJobs(), "jobs need the operator's approval unless configured otherwise");
    assertEquals(1, config.maxConcurrentTasks(), "one task at a time unless configured otherwise");
  }

  private static final String WITH_TASKS = """
      node_id: hospital-a
      coordinator: localhost:7443
      insecure_plaintext: true
      max_concurrent_tasks: %s
      datasets:
        - {name: scans, kind: imaging, format: image_folders, location: data/scans, classes: [a, b]}
      """;

  @Test
  void load_maxConcurrentTasks_isReadAndBounded() throws Exception {
    assertEquals(3, AgentConfigLoader.load(write(WITH_TASKS.formatted("3"))).maxConcurrentTasks());

    AgentConfigLoader.ConfigException zero = assertThrows(AgentConfigLoader.ConfigException.class,
        () -> AgentConfigLoader.load(write(WITH_TASKS.formatted("0"))));
    assertTrue(zero.getMessage().endsWith("max_concurrent_tasks must be in 1..64, got 0"), zero.getMessage());
    AgentConfigLoader.ConfigException word = assertThrows(AgentConfigLoader.ConfigException.class,
        () -> AgentConfigLoader.load(write(WITH_TASKS.formatted("many"))));
    assertTrue(word.getMessage().endsWith("max_concurrent_tasks must be a whole number, got 'many'"), word.getMessage());
  }

  @Test
  void load_privacyBudget_perDataset_withDefaultsAndCheckedFields() throws Exception {
    String yaml = """
        node_id: hospital-a
        coordinator: localhost:7443
        insecure_plaintext: true
        datasets:
          - {name: scans, kind: imaging, format: image_folders, location: x, classes: [a, b],
             privacy_budget: %s}
          - {name: genes, kind: genomic, format: csv_matrix, location: y, classes: [a, b]}
        """;
    AgentConfig config = AgentConfigLoader.load(write(yaml.formatted("{epsilon: 8, delta: 1.0e-6, per: 30d}")));
    assertEquals(Map.of("scans", new PrivacyBudget(8, 1e-6, Duration.ofDays(30))), config.privacyBudgets());
    assertEquals(new PrivacyBudget(2, 1e-5, Duration.ofDays(365)),
        AgentConfigLoader.load(write(yaml.formatted("{epsilon: 2}"))).privacyBudgets().get("scans"));

    AgentConfigLoader.ConfigException per = assertThrows(AgentConfigLoader.ConfigException.class,
        () -> AgentConfigLoader.load(write(yaml.formatted("{epsilon: 8, per: 1y}"))));
    assertTrue(per.getMessage().endsWith("datasets[0].privacy_budget.per must be a number of days such as 365d, got '1y'"),
        per.getMessage());
    AgentConfigLoader.ConfigException negative = assertThrows(AgentConfigLoader.ConfigException.class,
        () -> AgentConfigLoader.load(write(yaml.formatted("{epsilon: -1}"))));
    assertTrue(negative.getMessage().contains("privacy_budget.epsilon must be a finite number > 0, got -1.0"),
        negative.getMessage());
  }

  @Test
  void load_volumeFolders_readsResizeIntensityVolumeAndMemoryShare_andNamesABadField() throws Exception {
    AgentConfig config = AgentConfigLoader.load(write("""
        node_id: hospital-a
        coordinator: localhost:7443
        insecure_plaintext: true
        datasets:
          - {name: ct, kind: imaging, format: volume_folders, location: x, classes: [a, b], resize: [32, 64, 48],
             intensity: window, window: {center: 40, width: 400}, volume: 1, memory_share: 0.25}
        """));
    var volume = config.datasets().get(0).options().volume();
    assertEquals(new VolumePreprocessing.Size(32, 64, 48), volume.size().orElseThrow());
    assertEquals(new VolumePreprocessing.Intensity.Window(new DicomWindow(40, 400)), volume.intensity());
    assertEquals(OptionalInt.of(1), volume.volume());
    assertEquals(0.25, volume.heapShare());

    Path bad = write("""
        node_id: hospital-a
        coordinator: localhost:7443
        insecure_plaintext: true
        datasets:
          - {name: ct, kind: imaging, format: volume_folders, location: x, classes: [a, b], resize: [64, 64]}
        """);
    var e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(bad));
    assertTrue(e.getMessage().endsWith("datasets[0].resize must be [DEPTH, HEIGHT, WIDTH] in voxels for"
        + " volumes, e.g. [64, 64, 64]"), e.getMessage());
  }

  @Test
  void load_volumeFolders_readsSpacingInMillimetres_andRefusesItWithResize() throws Exception {
    AgentConfig config = AgentConfigLoader.load(write("""
        node_id: hospital-a
        coordinator: localhost:7443
        insecure_plaintext: true
        datasets:
          - {name: ct, kind: imaging, format: volume_folders, location: x, classes: [a, b], spacing: [2.5, 1, 1]}
        """));
    Path both = write("""
        node_id: hospital-a
        coordinator: localhost:7443
        insecure_plaintext: true
        datasets:
          - {name: ct, kind: imaging, format: volume_folders, location: x, classes: [a, b], spacing: [2, 1, 1],
             resize: [8, 8, 8]}
        """);

    var e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(both));

    assertEquals(new VolumePreprocessing.Spacing(2.5, 1, 1),
        config.datasets().get(0).options().volume().spacing().orElseThrow());
    assertTrue(e.getMessage().endsWith("datasets[0].spacing and resize are both declared; declare one (resize after"
        + " resampling to a spacing would change the spacing again)"), e.getMessage());
  }

  @Test
  void load_imagePreprocessingAndMetrics_areReadAndCheckedWithTheField() throws Exception {
    AgentConfig config = AgentConfigLoader.load(write("""
        node_id: hospital-a
        coordinator: localhost:7443
        insecure_plaintext: true
        metrics: {port: 9464}
        datasets:
          - {name: scans, kind: imaging, format: image_folders, location: x, classes: [a, b],
             resize: [224, 192], channels: rgb}
        """));
    var image = config.datasets().get(0).options().image();
    assertEquals(224, image.resize().orElseThrow().height());
    assertEquals(192, image.resize().orElseThrow().width());
    assertEquals(ImagePreprocessing.Channels.RGB, image.channels());
    assertEquals(new InetSocketAddress("127.0.0.1", 9464), config.metrics().orElseThrow());

    Path bad = write("""
        node_id: hospital-a
        coordinator: localhost:7443
        insecure_plaintext: true
        datasets:
          - {name: scans, kind: imaging, format: image_folders, location: x, classes: [a, b], resize: [224]}
        """);
    var e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(bad));
    assertTrue(e.getMessage().contains("datasets[0].resize must be [HEIGHT, WIDTH]"), e.getMessage());
  }

  private static final String WITH_COORDINATOR = """
      node_id: hospital-a
      coordinator: %s
      insecure_plaintext: true
      datasets:
        - {name: scans, kind: imaging, format: image_folders, location: data/scans, classes: [a, b]}
      """;

  @Test
  void load_coordinatorList_keepsTheOrderToTryThemIn() throws Exception {
    AgentConfig config = AgentConfigLoader.load(write(WITH_COORDINATOR.formatted(
        "[coord-a.example.org:7443, coord-b.example.org:7444]")));

    assertEquals(List.of(new CoordinatorAddress("coord-a.example.org", 7443),
        new CoordinatorAddress("coord-b.example.org", 7444)), config.coordinators());
  }

  @Test
  void load_badCoordinatorLists_areRefusedNamingTheEntryAndTheForm() throws Exception {
    Path file = dir.resolve("agent.yaml");
    Map<String, String> refusals = Map.of(
        "[]", file + ": 'coordinator' lists no address; give host:port, or a list [host1:port, host2:port] of the"
            + " active coordinator and its standbys",
        "[a.example.org:7443, b.example.org]", file + ": coordinator[1]: coordinator 'b.example.org' must be"
            + " host:port",
        "[a.example.org:7443, b.example.org:http]", file + ": coordinator[1]: coordinator port in"
            + " 'b.example.org:http' is not a number",
        "[a.example.org:7443, a.example.org:7443]", file + ": coordinator[1] repeats a.example.org:7443; list each"
            + " coordinator once",
        "[a.example.org:70000]", file + ": coordinator[0]: coordinator port must be in 1..65535, got 70000",
        "{host: a.example.org}", file + ": coordinator must be host:port, got {\"host\":\"a.example.org\"}; give"
            + " host:port, or a list [host1:port, host2:port] of the active coordinator and its standbys",
        "a.example.org", file + ": coordinator: coordinator 'a.example.org' must be host:port");
    for (Map.Entry<String, String> refusal : refusals.entrySet()) {
      write(WITH_COORDINATOR.formatted(refusal.getKey()));

      var e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file),
          refusal.getKey());

      assertEquals(refusal.getValue(), e.getMessage(), refusal.getKey());
    }
  }

  @Test
  void load_withoutTlsOrAnExplicitPlaintextFlag_saysWhatToAdd() throws Exception {
    Path file = write("""
        node_id: hospital-a
        coordinator: localhost:7443
        datasets:
          - {name: scans, kind: imaging, format: image_folders, location: x, classes: [a, b]}
        """);

    var e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file));

    assertEquals(file + ": give a 'tls' section (certificate, private_key, ca from your startup kit) or"
        + " 'insecure_plaintext: true' for a development coordinator; not both, not neither", e.getMessage());
  }

  @Test
  void load_unknownFormat_namesTheFieldAndTheChoices() throws Exception {
    Path file = write("""
        node_id: hospital-a
        coordinator: localhost:7443
        insecure_plaintext: true
        datasets:
          - {name: scans, kind: imaging, format: nifti, location: x, classes: [a, b]}
        """);

    var e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file));

    assertEquals(file + ": datasets[0].format is 'nifti'; expected one of [image_folders, csv_matrix, csv_survival, expression_matrix,"
        + " image_manifest, vcf, volume_folders, volume_survival, fhir, fhir_survival, omop,"
        + " omop_survival]", e.getMessage());
  }

  @Test
  void load_typoInFieldName_isNotSilentlyIgnored() throws Exception {
    Path file = write("node_id: h\ncoordinater: localhost:1\ndatasets: []\n");

    var e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file));

    assertTrue(e.getMessage().contains("unknown field 'coordinater'"), e.getMessage());
  }

  @Test
  void load_brokenYaml_saysSoWithTheFile() throws Exception {
    Path file = write("node_id: [unclosed\n");

    var e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file));

    assertTrue(e.getMessage().startsWith(file + ": cannot be read as YAML"), e.getMessage());
  }

  private static final String MINIMAL = """
      node_id: hospital-a
      coordinator: localhost:7443
      insecure_plaintext: true
      datasets:
        - {name: d, kind: genomic, format: csv_matrix, location: d.csv, classes: [a, b]}
      """;

  @Test
  void load_withoutTrainer_trainsWithDl4j() throws Exception {
    assertEquals(TrainerChoice.dl4j(), AgentConfigLoader.load(write(MINIMAL)).trainer());
  }

  @Test
  void load_sparkTrainer_keepsTheKindAndItsSettingsAsText() throws Exception {
    AgentConfig config = AgentConfigLoader.load(write(MINIMAL
        + "trainer: {kind: spark, master: \"local[4,3]\", partitions: 4, spark.executor.memory: 8g}\n"));

    assertEquals(new TrainerChoice("spark", Map.of("master", "local[4,3]", "partitions", "4",
        "spark.executor.memory", "8g")), config.trainer());
  }

  @Test
  void load_trainerWithoutKind_isRefusedNamingTheFix() throws Exception {
    Path file = write(MINIMAL + "trainer: {master: \"local[2]\"}\n");

    var e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file));

    assertEquals(file + ": 'trainer' must be a mapping with a kind, e.g. {kind: spark, master: \"local[4]\"}; leave"
        + " it out to train with dl4j in the agent's JVM", e.getMessage());
  }
}
