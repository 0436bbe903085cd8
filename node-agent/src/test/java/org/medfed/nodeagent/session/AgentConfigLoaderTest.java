package org.medfed.nodeagent.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.DatasetKind;

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
        datasets:
          - name: scans
            kind: imaging
            format: image_folders
            location: data/scans
            classes: [normal, nodule]
        """));

    assertEquals("hospital-a", config.nodeId());
    assertEquals("coord.example.org", config.coordinatorHost());
    assertEquals(7443, config.coordinatorPort());
    assertEquals(DatasetKind.IMAGING, config.datasets().get(0).kind());
    assertEquals(DatasetFormat.IMAGE_FOLDERS, config.datasets().get(0).format());
    assertEquals(dir.resolve("data/scans").toAbsolutePath(), config.datasets().get(0).location());
    assertEquals(List.of("normal", "nodule"), config.datasets().get(0).classes());
  }

  @Test
  void load_unknownFormat_namesTheFieldAndTheChoices() throws Exception {
    Path file = write("""
        node_id: hospital-a
        coordinator: localhost:7443
        datasets:
          - {name: scans, kind: imaging, format: nifti, location: x, classes: [a, b]}
        """);

    var e = assertThrows(AgentConfigLoader.ConfigException.class, () -> AgentConfigLoader.load(file));

    assertEquals(file + ": datasets[0].format is 'nifti'; expected one of [image_folders, csv_matrix]", e.getMessage());
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
}
