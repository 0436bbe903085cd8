package org.medfed.sparktrainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.coordinator.Coordinator;
import org.medfed.coordinator.CoordinatorConfig;
import org.medfed.coordinator.job.JobSpecParser;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetFormat;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.AgentConfig;
import org.medfed.nodeagent.session.Backoff;
import org.medfed.nodeagent.session.NodeAgent;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.LocalTrainer;
import org.medfed.nodeagent.training.TrainerChoice;
import org.medfed.nodeagent.training.Trainers;
import org.medfed.proto.v1.AdminServiceGrpc;
import org.medfed.proto.v1.GetJobRequest;
import org.medfed.proto.v1.JobDetail;
import org.medfed.proto.v1.JobState;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Issue 17's acceptance: a federated job in which one hospital trains on Spark {@code local[2]}
 * reaches the accuracy of the same job with the plain trainer everywhere. A real coordinator and
 * real agents on loopback gRPC (plaintext, as TLS is not what is tested here), with the secure
 * aggregation the job has by default.
 */
class FederatedSparkJobTest {
  private static final List<String> CLASSES = List.of("a", "b", "c");
  private static final String JOB = """
      name: spark-blobs
      dataset: expression
      model: {architecture: mlp, hidden: [16]}
      input_shape: [20]
      num_classes: 3
      rounds: 3
      min_nodes: 3
      local_epochs: 1
      batch_size: 16
      learning_rate: 0.01
      seed: 7
      deadlines: {selection: 60s, training: 120s, evaluation: 60s}
      """;

  @TempDir Path work;

  @Test
  void job_withOneHospitalOnSparkLocal2_reachesThePlainTrainersAccuracy() throws Exception {
    double plain = finalAccuracy(work.resolve("plain"), new Dl4jTrainer());
    double withSpark;
    try (SparkTrainer spark = (SparkTrainer) Trainers.create(new TrainerChoice("spark", Map.of("master", "local[2]",
        "partitions", "2", "spark.driver.bindAddress", "127.0.0.1", "spark.driver.host", "127.0.0.1")))) {
      withSpark = finalAccuracy(work.resolve("spark"), spark);
    }

    assertTrue(plain > 0.8, "the plain job should learn the clusters, got " + plain);
    assertEquals(plain, withSpark, 0.05, "accuracy with hospital-c on Spark");
  }

  /** Runs the job on hospitals a, b (plain trainer) and c ({@code trainerOfC}); its last round's accuracy. */
  private static double finalAccuracy(Path dataDir, LocalTrainer trainerOfC) throws Exception {
    List<NodeAgent> agents = new ArrayList<>();
    try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.defaults(dataDir.resolve("coordinator")),
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)))) {
      String[] ids = {"hospital-a", "hospital-b", "hospital-c"};
      for (int k = 0; k < ids.length; k++) {
        LocalDataset data = blobs(k + 1, 120, 40);
        AgentConfig config = new AgentConfig(ids[k], "127.0.0.1", coordinator.port(),
            List.of(new DatasetDeclaration("expression", DatasetKind.GENOMIC, DatasetFormat.CSV_MATRIX,
                Path.of("in-memory"), CLASSES)),
            Backoff.defaults(), Duration.ofSeconds(5), Optional.empty(), dataDir.resolve(ids[k]), true, Optional.empty());
        NodeAgent agent = new NodeAgent(config, plaintext(coordinator.port()), List.of(data),
            k == 2 ? trainerOfC : new Dl4jTrainer());
        agents.add(agent);
        agent.start();
      }
      for (NodeAgent agent : agents) {
        agent.connected().get(60, TimeUnit.SECONDS);
      }
      String jobId = coordinator.jobs().submit(JobSpecParser.parse(JOB), "test").id();
      coordinator.jobs().find(jobId).orElseThrow().finished().get(5, TimeUnit.MINUTES);
      ManagedChannel adminChannel = plaintext(coordinator.port());
      try {
        JobDetail detail = AdminServiceGrpc.newBlockingStub(adminChannel).withDeadlineAfter(30, TimeUnit.SECONDS)
            .getJob(GetJobRequest.newBuilder().setJobId(jobId).build());
        assertEquals(JobState.SUCCEEDED, detail.getSummary().getState(), detail.getSummary().getMessage());
        assertEquals(3, detail.getRoundsCount());
        return detail.getRounds(2).getMetricsOrThrow("eval_accuracy");
      } finally {
        adminChannel.shutdownNow();
      }
    } finally {
      agents.forEach(NodeAgent::close);
    }
  }

  private static ManagedChannel plaintext(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  /** Gaussian clusters, one per class, centred alike at every hospital; samples drawn from {@code seed}. */
  private static LocalDataset blobs(long seed, int train, int test) {
    return new LocalDataset("expression", DatasetKind.GENOMIC, new long[] {20}, CLASSES, draw(seed, train),
        draw(seed + 1000, test));
  }

  private static DataSet draw(long seed, int n) {
    Random centres = new Random(99);
    float[][] centre = new float[CLASSES.size()][20];
    for (float[] c : centre) {
      for (int j = 0; j < 20; j++) {
        c[j] = (float) centres.nextGaussian();
      }
    }
    Random random = new Random(seed);
    float[][] x = new float[n][20];
    float[][] y = new float[n][CLASSES.size()];
    for (int i = 0; i < n; i++) {
      int label = random.nextInt(CLASSES.size());
      y[i][label] = 1;
      for (int j = 0; j < 20; j++) {
        x[i][j] = centre[label][j] + (float) (1.5 * random.nextGaussian());
      }
    }
    return new DataSet(Nd4j.create(x), Nd4j.create(y));
  }
}
