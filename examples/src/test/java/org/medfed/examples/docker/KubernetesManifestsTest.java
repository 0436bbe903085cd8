package org.medfed.examples.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.Coordinator;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.coordinator.store.Database;
import org.medfed.nodeagent.session.AgentConfig;
import org.medfed.nodeagent.session.AgentConfigLoader;
import org.medfed.telemetry.OpsEndpoint;
import org.medfed.trust.provision.ConsortiumFile;
import org.medfed.trust.tls.CoordinatorAddress;

/**
 * docker/kubernetes/, checked statically (no cluster here): every file kustomization.yaml lists
 * parses; every ConfigMap, claim and Service a pod needs is defined and every Secret it needs is
 * created by a command in the README; Services select pods and target their ports; probes ask
 * ports the containers open for paths the coordinator and agent really serve; images are the ones
 * docker/ builds, run as their non-root user; the embedded coordinator.yaml and agent.yaml pass
 * the real parsers, both coordinators share one PostgreSQL store and one data volume, and every
 * agent lists every coordinator replica under a name its certificate will carry.
 */
class KubernetesManifestsTest {
  private static final Path DOCKER = Path.of("..", "docker");
  private static final Path KUBERNETES = DOCKER.resolve("kubernetes");
  private static final Path README = Path.of("..", "README.md");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> WORKLOADS = Set.of("Deployment", "StatefulSet");
  private static final String COORDINATOR = "medfed-coordinator";

  @TempDir Path dir;

  /** One document of a manifest file. */
  private record Resource(Path file, JsonNode node) {
    String kind() {
      return node.path("kind").asText();
    }

    String name() {
      return node.at("/metadata/name").asText();
    }

    JsonNode podSpec() {
      return node.at("/spec/template/spec");
    }

    JsonNode container() {
      JsonNode containers = podSpec().path("containers");
      assertEquals(1, containers.size(), this + ": one container");
      return containers.get(0);
    }

    @Override
    public String toString() {
      return file.getFileName() + ": " + kind() + " " + name();
    }
  }

  @Test
  void kustomization_listsEveryManifestOfTheFolder_andEachParsesIntoNamedResources() throws Exception {
    Set<String> listed = new TreeSet<>(listedFiles());
    Set<String> present = new TreeSet<>();
    try (Stream<Path> files = Files.list(KUBERNETES)) {
      files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".yaml"))
          .filter(n -> !n.equals("kustomization.yaml") && !n.equals("consortium.yaml")).forEach(present::add);
    }
    assertEquals(present, listed, "kustomization.yaml's resources and the manifests in " + KUBERNETES);
    Set<String> seen = new HashSet<>();
    for (Resource resource : resources()) {
      assertFalse(resource.node().path("apiVersion").asText().isEmpty(), resource + ": apiVersion");
      assertFalse(resource.name().isEmpty(), resource.file() + ": a " + resource.kind() + " without a name");
      assertTrue(seen.add(resource.kind() + "/" + resource.name()), resource + " is defined twice");
    }
    assertEquals(Set.of("Namespace", "Service", "StatefulSet", "ConfigMap", "PersistentVolumeClaim", "Deployment"),
        new HashSet<>(resources().stream().map(Resource::kind).toList()));
  }

  @Test
  void pods_useOnlyDefinedConfigMapsAndClaims_andSecretsTheReadmeCreates_withTheKeysTheyProject() throws Exception {
    List<Resource> resources = resources();
    Map<String, Set<String>> secrets = documentedSecrets();
    for (Resource workload : workloads(resources)) {
      JsonNode pod = workload.podSpec();
      Set<String> volumes = new HashSet<>();
      for (JsonNode volume : pod.path("volumes")) {
        volumes.add(volume.path("name").asText());
        List<JsonNode> sources = new ArrayList<>();
        volume.at("/projected/sources").forEach(sources::add);
        sources.add(volume);
        for (JsonNode source : sources) {
          if (source.has("configMap")) {
            JsonNode data = find(resources, "ConfigMap", source.at("/configMap/name").asText(), workload).node()
                .path("data");
            source.at("/configMap/items").forEach(item -> assertTrue(data.has(item.path("key").asText()),
                workload + ": ConfigMap " + source.at("/configMap/name").asText() + " has no key " + item.path("key")));
          }
          if (source.has("secret")) {
            String name = source.at("/secret/name").asText(source.at("/secret/secretName").asText());
            assertTrue(secrets.containsKey(name), workload + " needs Secret " + name
                + ", which no `kubectl create secret generic` in the README creates: " + secrets.keySet());
            source.at("/secret/items").forEach(item -> assertTrue(secrets.get(name).contains(item.path("key").asText()),
                workload + ": Secret " + name + " as the README creates it has no key " + item.path("key")
                    + ", only " + secrets.get(name)));
          }
        }
        if (volume.has("persistentVolumeClaim")) {
          find(resources, "PersistentVolumeClaim", volume.at("/persistentVolumeClaim/claimName").asText(), workload);
        }
      }
      for (JsonNode env : workload.container().path("env")) {
        JsonNode secret = env.at("/valueFrom/secretKeyRef");
        if (!secret.isMissingNode()) {
          assertTrue(secrets.getOrDefault(secret.path("name").asText(), Set.of()).contains(secret.path("key").asText()),
              workload + ": env " + env.path("name") + " needs " + secret + ", which the README does not create");
        }
        JsonNode config = env.at("/valueFrom/configMapKeyRef");
        if (!config.isMissingNode()) {
          assertTrue(find(resources, "ConfigMap", config.path("name").asText(), workload).node().path("data")
              .has(config.path("key").asText()), workload + ": env " + env.path("name") + " needs " + config);
        }
      }
      workload.node().at("/spec/volumeClaimTemplates").forEach(t -> volumes.add(t.at("/metadata/name").asText()));
      for (JsonNode mount : workload.container().path("volumeMounts")) {
        assertTrue(volumes.contains(mount.path("name").asText()), workload + " mounts the undefined volume " + mount);
      }
      if (workload.kind().equals("StatefulSet")) {
        find(resources, "Service", workload.node().at("/spec/serviceName").asText(), workload);
      }
    }
  }

  @Test
  void services_selectPods_andTargetTheirPorts_andWorkloadsSelectTheirOwnPods() throws Exception {
    List<Resource> resources = resources();
    for (Resource workload : workloads(resources)) {
      assertTrue(contains(workload.node().at("/spec/template/metadata/labels"),
          workload.node().at("/spec/selector/matchLabels")), workload + ": its selector does not match its pods");
    }
    for (Resource service : kind(resources, "Service")) {
      JsonNode selector = service.node().at("/spec/selector");
      List<Resource> selected = workloads(resources).stream()
          .filter(w -> contains(w.node().at("/spec/template/metadata/labels"), selector)).toList();
      assertFalse(selected.isEmpty(), service + ": selector " + selector + " matches no pod");
      for (JsonNode port : service.node().at("/spec/ports")) {
        for (Resource workload : selected) {
          assertTrue(hasPort(workload.container(), port.path("targetPort")), service + " targets port "
              + port.path("targetPort") + ", which " + workload + " does not open");
        }
      }
    }
  }

  @Test
  void probes_askContainerPorts_forPathsTheCoordinatorAndAgentServe() throws Exception {
    Map<String, Integer> coordinatorPaths = new HashMap<>();
    Map<String, Integer> agentPaths = new HashMap<>();
    for (Resource workload : workloads(resources())) {
      JsonNode container = workload.container();
      for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
        JsonNode check = container.path(probe);
        assertFalse(check.isMissingNode(), workload + " has no " + probe);
        if (check.has("httpGet")) {
          assertTrue(hasPort(container, check.at("/httpGet/port")), workload + ": " + probe + " asks port "
              + check.at("/httpGet/port") + ", which the container does not open");
          String path = check.at("/httpGet/path").asText();
          if (isCoordinator(workload)) {
            coordinatorPaths.put(path, 200);
          } else if (isAgent(workload)) {
            agentPaths.put(path, 200);
          } else {
            fail(workload + ": an HTTP probe on a container that is neither coordinator nor agent");
          }
        } else {
          assertTrue(check.has("exec") || check.has("tcpSocket") || check.has("grpc"), workload + ": " + probe);
        }
      }
    }
    assertEquals(Set.of("/healthz", "/readyz"), coordinatorPaths.keySet());
    assertEquals(Set.of("/healthz"), agentPaths.keySet());

    // The paths asked of a coordinator that drives the jobs (ready) and of the agent's endpoint.
    CoordinatorConfig config = CoordinatorConfig.defaults(dir.resolve("data"))
        .withHttp(new InetSocketAddress("127.0.0.1", 0));
    try (Coordinator coordinator = Coordinator.start(config, NettyServerBuilder.forAddress(
        new InetSocketAddress("127.0.0.1", 0)))) {
      for (String path : coordinatorPaths.keySet()) {
        assertEquals(200, status(coordinator.httpAddress().orElseThrow(), path), "coordinator " + path);
      }
    }
    try (OpsEndpoint agent = OpsEndpoint.start(new InetSocketAddress("127.0.0.1", 0), OpsEndpoint.newRegistry())) {
      for (String path : agentPaths.keySet()) {
        assertEquals(200, status("127.0.0.1:" + agent.address().getPort(), path), "agent " + path);
      }
    }
  }

  @Test
  void containers_runTheImagesDockerBuilds_asTheirNonRootUser_withResourceBounds() throws Exception {
    JsonNode compose = YAML.readTree(DOCKER.resolve("compose.yaml").toFile());
    String coordinatorImage = compose.at("/services/coordinator/image").asText();
    String agentImage = compose.at("/services/hospital-a/image").asText();
    for (Resource workload : workloads(resources())) {
      JsonNode pod = workload.podSpec();
      JsonNode container = workload.container();
      String image = container.path("image").asText();
      if (isCoordinator(workload)) {
        assertEquals(coordinatorImage, image, workload.toString());
        assertTrue(Files.readString(DOCKER.resolve("Dockerfile.coordinator")).contains("-t " + image + " "),
            "Dockerfile.coordinator builds " + image);
        assertEquals(uidOf("Dockerfile.coordinator"), pod.at("/securityContext/runAsUser").asInt(), workload.toString());
      } else if (isAgent(workload)) {
        assertEquals(agentImage, image, workload.toString());
        assertTrue(Files.readString(DOCKER.resolve("Dockerfile.agent")).contains("-t " + image + " "),
            "Dockerfile.agent builds " + image);
        assertEquals(uidOf("Dockerfile.agent"), pod.at("/securityContext/runAsUser").asInt(), workload.toString());
      } else {
        assertTrue(image.startsWith("postgres:"), workload + ": unexpected image " + image);
      }
      assertTrue(pod.at("/securityContext/runAsNonRoot").asBoolean(), workload + ": runAsNonRoot");
      assertNotEquals(0, pod.at("/securityContext/runAsUser").asInt(), workload + ": runAsUser");
      assertFalse(container.at("/securityContext/allowPrivilegeEscalation").asBoolean(true),
          workload + ": allowPrivilegeEscalation");
      assertEquals("[\"ALL\"]", container.at("/securityContext/capabilities/drop").toString(), workload.toString());
      for (String bound : List.of("requests", "limits")) {
        for (String resource : List.of("cpu", "memory")) {
          assertFalse(container.at("/resources/" + bound + "/" + resource).asText().isEmpty(),
              workload + ": resources." + bound + "." + resource);
        }
      }
    }
  }

  @Test
  void twoCoordinators_shareOnePostgresStoreAndDataVolume_onThePortsTheirConfigAndImageUse() throws Exception {
    List<Resource> resources = resources();
    Resource coordinators = find(resources, "StatefulSet", COORDINATOR, null);
    assertEquals(2, coordinators.node().at("/spec/replicas").asInt(), "an active coordinator and a standby");
    JsonNode container = coordinators.container();
    Path config = written(resources, coordinators, "coordinator.yaml");

    Object file = coordinatorFile(config);
    int grpc = port(container, "grpc");
    assertEquals(grpc, (int) record(file, "port"), "coordinator.yaml's port and the container's grpc port");
    assertEquals(port(container, "http"), Integer.parseInt(entryPointHttp().split(":")[1]),
        "the image's --http port and the container's http port");

    // One pod template for both replicas: the same store, the lease's, and the same data folder.
    @SuppressWarnings("unchecked")
    Database.Settings store = ((Optional<Database.Settings>) record(file, "store")).orElseThrow(
        () -> new AssertionError("coordinator.yaml has no store: each replica would use its own SQLite"));
    Matcher url = Pattern.compile("jdbc:postgresql://([^:/]+):(\\d+)/\\w+").matcher(store.url());
    assertTrue(url.matches(), store.url());
    Resource postgres = find(resources, "Service", url.group(1), coordinators);
    assertEquals(Integer.parseInt(url.group(2)), postgres.node().at("/spec/ports/0/port").asInt(), store.url());
    assertTrue(projected(coordinators).contains(store.passwordFile().orElseThrow().getFileName().toString()),
        "the database password is projected beside coordinator.yaml");
    Path dataDir = (Path) record(file, "dataDir");
    JsonNode dataVolume = volumeMountedAt(coordinators, dataDir.toString());
    String claim = dataVolume.at("/persistentVolumeClaim/claimName").asText();
    assertFalse(claim.isEmpty(), "data_dir " + dataDir + " is a claim both replicas mount, not a per-pod template");
    assertEquals("[\"ReadWriteMany\"]",
        find(resources, "PersistentVolumeClaim", claim, coordinators).node().at("/spec/accessModes").toString(),
        "both replicas mount " + claim + " at once");
    @SuppressWarnings("unchecked")
    CoordinatorConfig.Security tls = ((Optional<CoordinatorConfig.Security>) record(file, "security")).orElseThrow();
    for (Path path : List.of(tls.files().certificate(), tls.files().privateKey(), tls.files().ca(),
        tls.revocationList())) {
      assertTrue(projected(coordinators).contains(path.getFileName().toString()), path + " is not in /kit");
    }

    Resource agents = find(resources, "Service", coordinators.node().at("/spec/serviceName").asText(), coordinators);
    assertEquals("None", agents.node().at("/spec/clusterIP").asText(), "one DNS name per replica");
    assertTrue(agents.node().at("/spec/publishNotReadyAddresses").asBoolean(),
        "the standby is not ready but agents must reach it to be refused and move on");
  }

  @Test
  void everyAgent_passesTheAgentParser_listsEveryCoordinatorReplica_andIsAHospitalOfTheConsortium() throws Exception {
    List<Resource> resources = resources();
    Resource coordinators = find(resources, "StatefulSet", COORDINATOR, null);
    String service = coordinators.node().at("/spec/serviceName").asText();
    int grpc = port(coordinators.container(), "grpc");
    List<CoordinatorAddress> replicas = IntStream.range(0, coordinators.node().at("/spec/replicas").asInt())
        .mapToObj(i -> new CoordinatorAddress(COORDINATOR + "-" + i + "." + service, grpc)).toList();
    ConsortiumFile consortium = ConsortiumFile.read(KUBERNETES.resolve("consortium.yaml"));
    assertEquals(replicas.get(0), CoordinatorAddress.parse(consortium.coordinatorAddress()),
        "the address `medfed provision` writes into the kits");

    List<String> hospitals = new ArrayList<>();
    for (Resource agent : workloads(resources).stream().filter(KubernetesManifestsTest::isAgent).toList()) {
      AgentConfig config = AgentConfigLoader.load(written(resources, agent, "agent.yaml"));
      hospitals.add(config.nodeId());
      assertEquals(agent.name(), config.nodeId(), agent + ": one Deployment per hospital, named after it");
      assertEquals(1, agent.node().at("/spec/replicas").asInt(), agent + ": one session per node id");
      assertEquals(replicas, config.coordinators(), agent + ": every coordinator replica, in order");
      for (CoordinatorAddress address : config.coordinators()) {
        assertTrue(consortium.coordinatorNames().contains(address.host()),
            agent + " dials " + address.host() + ", which the coordinator's certificate will not name");
      }
      Set<String> projected = projected(agent);
      config.tls().ifPresent(tls -> Stream.of(tls.certificate(), tls.privateKey(), tls.ca()).forEach(path ->
          assertTrue(projected.contains(path.getFileName().toString()), agent + ": " + path + " is not in /kit")));
      JsonNode container = agent.container();
      assertEquals(port(container, "metrics"), config.metrics().orElseThrow().getPort(), agent + ": metrics port");
      assertEquals("0.0.0.0", config.metrics().orElseThrow().getHostString(), agent + ": the kubelet probes it");
      JsonNode state = volumeMountedAt(agent, config.stateDir().toString());
      assertFalse(state.at("/persistentVolumeClaim/claimName").asText().isEmpty(), agent + ": state on a claim");
      config.datasets().forEach(dataset -> {
        JsonNode data = volumeMountedAt(agent, dataset.location().toString());
        assertFalse(data.at("/persistentVolumeClaim/claimName").asText().isEmpty(), agent + ": data on a claim");
      });
    }
    assertEquals(consortium.hospitals(), hospitals);
  }

  @Test
  void readme_tellsHowToDeploy_andItsTakeoverBoundFitsTheLeaseTtl() throws Exception {
    String section = readmeSection();
    assertTrue(section.contains("kubectl apply -k docker/kubernetes"), section);
    assertTrue(section.contains("bin/medfed provision docker/kubernetes/consortium.yaml"), section);
    Object file = coordinatorFile(written(resources(), find(resources(), "StatefulSet", COORDINATOR, null),
        "coordinator.yaml"));
    long ttl = ((Duration) record(file, "leaseTtl")).toSeconds();
    assertEquals(10, ttl, "the README's bound of 15 s is for a TTL of 10 s");
    assertTrue(section.contains("within 15 s"), "the takeover bound, as under Operating a coordinator");
  }

  // --- reading the manifests ---

  private static List<String> listedFiles() throws Exception {
    JsonNode kustomization = YAML.readTree(KUBERNETES.resolve("kustomization.yaml").toFile());
    List<String> files = new ArrayList<>();
    kustomization.path("resources").forEach(r -> files.add(r.asText()));
    assertFalse(files.isEmpty(), "kustomization.yaml lists no resources");
    return files;
  }

  private static List<Resource> resources() throws Exception {
    List<Resource> resources = new ArrayList<>();
    for (String name : listedFiles()) {
      Path file = KUBERNETES.resolve(name);
      assertTrue(Files.isRegularFile(file), "kustomization.yaml lists " + name + ", which does not exist");
      try (var documents = YAML.readerFor(JsonNode.class).<JsonNode>readValues(file.toFile())) {
        while (documents.hasNext()) {
          JsonNode document = documents.next();
          if (document != null && !document.isNull() && !document.isEmpty()) {
            resources.add(new Resource(file, document));
          }
        }
      }
    }
    return resources;
  }

  private static List<Resource> kind(List<Resource> resources, String kind) {
    return resources.stream().filter(r -> r.kind().equals(kind)).toList();
  }

  private static List<Resource> workloads(List<Resource> resources) {
    return resources.stream().filter(r -> WORKLOADS.contains(r.kind())).toList();
  }

  private static Resource find(List<Resource> resources, String kind, String name, Resource user) {
    return resources.stream().filter(r -> r.kind().equals(kind) && r.name().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError((user == null ? "" : user + " needs ") + kind + " '" + name
            + "', which no file of kustomization.yaml defines"));
  }

  private static boolean isCoordinator(Resource workload) {
    return workload.container().path("image").asText().contains("coordinator");
  }

  private static boolean isAgent(Resource workload) {
    return workload.container().path("image").asText().contains("agent");
  }

  /** Whether every label of {@code selector} is on {@code labels}. */
  private static boolean contains(JsonNode labels, JsonNode selector) {
    if (selector.isMissingNode() || selector.isEmpty()) {
      return false;
    }
    for (var label : selector.properties()) {
      if (!labels.path(label.getKey()).asText().equals(label.getValue().asText())) {
        return false;
      }
    }
    return true;
  }

  /** A port given by name or number. */
  private static boolean hasPort(JsonNode container, JsonNode port) {
    for (JsonNode open : container.path("ports")) {
      if (port.isNumber() ? open.path("containerPort").asInt() == port.asInt()
          : open.path("name").asText().equals(port.asText())) {
        return true;
      }
    }
    return false;
  }

  private static int port(JsonNode container, String name) {
    for (JsonNode open : container.path("ports")) {
      if (open.path("name").asText().equals(name)) {
        return open.path("containerPort").asInt();
      }
    }
    throw new AssertionError("the container opens no port named " + name + ": " + container.path("ports"));
  }

  /** The file names projected into the volume mounted at /kit. */
  private static Set<String> projected(Resource workload) {
    Set<String> names = new HashSet<>();
    volumeMountedAt(workload, "/kit").at("/projected/sources").forEach(source -> source.forEach(
        kind -> kind.path("items").forEach(item -> names.add(item.path("path").asText()))));
    return names;
  }

  /** The volume whose mount holds {@code path}. */
  private static JsonNode volumeMountedAt(Resource workload, String path) {
    String name = null;
    int longest = -1;
    for (JsonNode mount : workload.container().path("volumeMounts")) {
      String at = mount.path("mountPath").asText();
      if ((path.equals(at) || path.startsWith(at + "/")) && at.length() > longest) {
        name = mount.path("name").asText();
        longest = at.length();
      }
    }
    assertTrue(name != null, workload + " mounts no volume at " + path);
    for (JsonNode volume : workload.podSpec().path("volumes")) {
      if (volume.path("name").asText().equals(name)) {
        return volume;
      }
    }
    throw new AssertionError(workload + " mounts the undefined volume " + name);
  }

  /**
   * The configuration file that {@code workload}'s /kit volume projects from a ConfigMap, written
   * into a folder of its own as the parser reads it.
   */
  private Path written(List<Resource> resources, Resource workload, String fileName) throws Exception {
    for (JsonNode source : volumeMountedAt(workload, "/kit").at("/projected/sources")) {
      for (JsonNode item : source.at("/configMap/items")) {
        if (item.path("path").asText().equals(fileName)) {
          String text = find(resources, "ConfigMap", source.at("/configMap/name").asText(), workload).node()
              .at("/data/" + item.path("key").asText()).asText();
          Path folder = Files.createDirectories(dir.resolve(workload.name()));
          return Files.writeString(folder.resolve(fileName), text);
        }
      }
    }
    throw new AssertionError(workload + " projects no " + fileName + " into /kit");
  }

  /**
   * {@code medfed serve}'s own reading of coordinator.yaml: the cli package keeps its
   * CoordinatorFile to itself, so it is called reflectively rather than widened for a test.
   */
  private static Object coordinatorFile(Path config) throws Exception {
    Method load = Class.forName("org.medfed.coordinator.cli.CoordinatorFile").getDeclaredMethod("load", Path.class);
    load.setAccessible(true);
    try {
      return load.invoke(null, config);
    } catch (InvocationTargetException e) {
      throw new AssertionError("coordinator.yaml of the ConfigMap: " + e.getCause().getMessage(), e.getCause());
    }
  }

  private static Object record(Object file, String component) throws Exception {
    Method accessor = file.getClass().getDeclaredMethod(component);
    accessor.setAccessible(true);
    return accessor.invoke(file);
  }

  /** The --http host:port of the coordinator image's entry point. */
  private static String entryPointHttp() throws Exception {
    Matcher http = Pattern.compile("\"--http\", \"([^\"]+)\"")
        .matcher(Files.readString(DOCKER.resolve("Dockerfile.coordinator")));
    assertTrue(http.find(), "Dockerfile.coordinator's ENTRYPOINT gives --http");
    return http.group(1);
  }

  private static int uidOf(String dockerfile) throws Exception {
    Matcher uid = Pattern.compile("useradd [^\\n]*--uid (\\d+)").matcher(Files.readString(DOCKER.resolve(dockerfile)));
    assertTrue(uid.find(), dockerfile + " gives its user a fixed --uid");
    return Integer.parseInt(uid.group(1));
  }

  /** The Secrets the README's Kubernetes section creates, each with the keys it gets. */
  private static Map<String, Set<String>> documentedSecrets() throws Exception {
    Map<String, Set<String>> secrets = new HashMap<>();
    String commands = readmeSection().replace("\\\n", " ");
    Matcher create = Pattern.compile("kubectl (?:-n [\\w-]+ )?create secret generic ([\\w.-]+)([^\\n]*)").matcher(commands);
    while (create.find()) {
      Set<String> keys = new HashSet<>();
      Matcher key = Pattern.compile("--from-(?:file|literal)=(?:([\\w.-]+)=)?(\\S+)").matcher(create.group(2));
      while (key.find()) {
        keys.add(key.group(1) != null ? key.group(1) : Path.of(key.group(2)).getFileName().toString());
      }
      secrets.put(create.group(1), keys);
    }
    return secrets;
  }

  private static String readmeSection() throws Exception {
    String readme = Files.readString(README);
    int start = readme.indexOf("\n## Deploying on Kubernetes\n");
    assertTrue(start >= 0, "README has a section 'Deploying on Kubernetes'");
    int end = readme.indexOf("\n## ", start + 1);
    return readme.substring(start, end < 0 ? readme.length() : end);
  }

  private static int status(String hostPort, String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + hostPort + path))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
