package org.medfed.examples.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.medfed.trust.provision.ConsortiumFile;

/**
 * The docker/ files, checked statically (no Docker engine here): multi-stage builds onto a JRE 17
 * runtime as a non-root user with a health check and an entry point that exists; the compose file
 * runs a coordinator and the consortium file's hospitals, each with its own kit and data mounts.
 */
class DockerFilesTest {
  private static final Path DOCKER = Path.of("..", "docker");

  @Test
  void images_areMultiStage_jre17_nonRoot_withHealthChecks_andRealEntryPoints() throws Exception {
    for (String file : List.of("Dockerfile.coordinator", "Dockerfile.agent")) {
      String text = Files.readString(DOCKER.resolve(file));
      List<String> from = lines(text, "FROM ");
      assertEquals(2, from.size(), file + ": a build stage and a runtime stage");
      assertTrue(from.get(1).startsWith("FROM eclipse-temurin:17-jre"), file + ": runtime " + from.get(1));
      List<String> users = lines(text, "USER ");
      assertTrue(!users.isEmpty() && !users.get(users.size() - 1).equals("USER root"), file + ": runs as " + users);
      assertTrue(text.contains("HEALTHCHECK "), file + ": needs a HEALTHCHECK");
      Matcher main = Pattern.compile("\"(org\\.medfed\\.[\\w.]+)\"").matcher(text);
      assertTrue(main.find(), file + ": ENTRYPOINT names a main class");
      Class.forName(main.group(1)).getMethod("main", String[].class);
    }
  }

  @Test
  void compose_runsTheCoordinatorAndEveryHospitalOfTheConsortium_withTheirKits() throws Exception {
    JsonNode compose = new ObjectMapper(new YAMLFactory()).readTree(DOCKER.resolve("compose.yaml").toFile());
    ConsortiumFile consortium = ConsortiumFile.read(DOCKER.resolve("consortium.yaml"));
    JsonNode services = compose.get("services");

    assertEquals("coordinator", consortium.coordinatorHost(), "agents dial the compose service by name");
    JsonNode coordinator = services.get("coordinator");
    assertTrue(coordinator.get("volumes").toString().contains("./kits/coordinator:/kit"));
    assertTrue(coordinator.get("ports").toString().contains(consortium.coordinatorPort() + ":7443"));
    assertTrue(coordinator.get("ports").toString().contains("127.0.0.1:8080:8080"),
        "the dashboard has no login: published on the host's loopback only");
    assertTrue(Files.isRegularFile(DOCKER.resolve("..").resolve(coordinator.at("/build/dockerfile").asText())));
    List<String> hospitals = new ArrayList<>();
    services.fieldNames().forEachRemaining(name -> {
      if (!name.equals("coordinator")) {
        hospitals.add(name);
      }
    });
    assertEquals(consortium.hospitals(), hospitals);
    for (String hospital : hospitals) {
      JsonNode service = services.get(hospital);
      String volumes = service.get("volumes").toString();
      assertTrue(volumes.contains("./kits/hospitals/" + hospital + ":/kit"), hospital + ": " + volumes);
      assertTrue(volumes.contains("./data/" + hospital + ":/data:ro"), hospital + ": data mounted read-only");
      assertEquals("service_healthy", service.at("/depends_on/coordinator/condition").asText(), hospital);
      assertTrue(service.has("user"), hospital + ": runs as the kit owner");
    }
  }

  private static List<String> lines(String text, String prefix) {
    return text.lines().filter(l -> l.startsWith(prefix)).toList();
  }
}
