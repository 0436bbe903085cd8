package org.medfed.examples.synthetic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.medfed.nodeagent.data.DatasetLoaders;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.session.AgentConfigLoader;

class SyntheticConsortiumTest {
  @TempDir Path dir;

  @Test
  void labelSkew_keepsEveryClassTotal_andConcentratesClassesAtFewHospitals() {
    int[][] counts = LabelSkew.counts(4, 4, 100, 0.5, new Random(1));

    for (int c = 0; c < 4; c++) {
      int total = 0;
      int largest = 0;
      for (int[] hospital : counts) {
        total += hospital[c];
        largest = Math.max(largest, hospital[c]);
      }
      assertEquals(100, total);
      // With alpha 0.5 one hospital typically holds most of a class; uniform would be 25.
      assertTrue(largest > 35, "class " + c + " is spread too evenly: " + Arrays.deepToString(counts));
    }
  }

  @Test
  void labelSkewMixes_givesEveryHospitalTheSameSize_andEachAMixOfItsOwn() {
    int[][] counts = LabelSkew.mixes(3, 3, 80, 0.5, new Random(1));

    for (int[] hospital : counts) {
      assertEquals(80, Arrays.stream(hospital).sum());
      // With alpha 0.5 one class typically dominates a hospital; uniform would be about 27.
      assertTrue(Arrays.stream(hospital).max().orElseThrow() > 40, "mix too even: " + Arrays.deepToString(counts));
    }
    assertNotEquals(Arrays.toString(counts[0]), Arrays.toString(counts[1]));
  }

  @Test
  void write_withVolumes_leavesTheOtherTasksFilesAsWithout_andDeclaresTheVolumes() throws Exception {
    SyntheticConsortium.write(dir.resolve("without"), new SyntheticConsortium.Settings(3, 20, 0.5, 5), "localhost:1",
        Optional.empty());
    List<SyntheticConsortium.Hospital> with = SyntheticConsortium.write(dir.resolve("with"),
        new SyntheticConsortium.Settings(3, 20, 0.5, 5, 6), "localhost:1", Optional.empty());

    for (String dataset : List.of(SyntheticConsortium.IMAGING_DATASET, SyntheticConsortium.GENOMIC_DATASET)) {
      List<Path> files;
      try (Stream<Path> walk = Files.walk(dir.resolve("without/hospital-b").resolve(dataset))) {
        files = walk.filter(Files::isRegularFile).toList();
      }
      for (Path file : files) {
        Path twin = dir.resolve("with").resolve(dir.resolve("without").relativize(file));
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(twin), file + " changed when volumes were added");
      }
    }
    LocalDataset volumes = DatasetLoaders.load(AgentConfigLoader.load(with.get(1).agentConfig()).datasets().get(2));
    int size = SyntheticConsortium.VOLUME_SIZE;
    assertArrayEquals(new long[] {1, size, size, size}, volumes.inputShape());
    assertEquals(VolumeGenerator.CLASSES, volumes.classes());
    // 6 training studies on average, plus a quarter of each class held out: 8 in all.
    assertEquals(8, volumes.trainSamples() + volumes.testSamples());
  }

  @Test
  void write_sameSeed_givesIdenticalFiles() throws Exception {
    var settings = new SyntheticConsortium.Settings(2, 40, 0.5, 7);
    SyntheticConsortium.write(dir.resolve("one"), settings, "localhost:1", Optional.empty());
    SyntheticConsortium.write(dir.resolve("two"), settings, "localhost:1", Optional.empty());

    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir.resolve("one"))) {
      files = walk.filter(Files::isRegularFile).toList();
    }
    assertTrue(files.size() > 40, "expected scans, matrices and configs, got " + files.size());
    for (Path file : files) {
      Path twin = dir.resolve("two").resolve(dir.resolve("one").relativize(file));
      assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(twin), file + " differs between runs");
    }
  }

  @Test
  void write_hospitalsLoadWithTheAgentsOwnLoaders_andDifferInTheirData() throws Exception {
    List<SyntheticConsortium.Hospital> hospitals = SyntheticConsortium.write(dir,
        new SyntheticConsortium.Settings(3, 60, 0.5, 3), "localhost:7443", Optional.empty());

    List<LocalDataset> scans = hospitals.stream().map(h -> DatasetLoaders.load(
        AgentConfigLoader.load(h.agentConfig()).datasets().get(0))).toList();
    List<LocalDataset> expression = hospitals.stream().map(h -> DatasetLoaders.load(
        AgentConfigLoader.load(h.agentConfig()).datasets().get(1))).toList();

    assertArrayEquals(new long[] {1, 28, 28}, scans.get(0).inputShape());
    assertArrayEquals(new long[] {SyntheticConsortium.GENES}, expression.get(0).inputShape());
    assertEquals(ScanGenerator.CLASSES, scans.get(0).classes());
    // Label skew: the hospitals' class mixes differ.
    assertNotEquals(scans.get(0).train().getLabels().sum(0).toString(), scans.get(1).train().getLabels().sum(0).toString());
    int totalTrain = expression.stream().mapToInt(LocalDataset::trainSamples).sum();
    assertTrue(totalTrain > 150 && totalTrain < 200, "about 60 training samples per hospital, got " + totalTrain);
  }
}
