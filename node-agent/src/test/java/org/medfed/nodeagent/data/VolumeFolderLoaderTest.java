package org.medfed.nodeagent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class VolumeFolderLoaderTest {
  private static final List<String> CLASSES = List.of("healthy", "lesion");

  @TempDir Path dir;

  /** A cube of {@code size} voxels, bright in its centre for lesions, stored as int16 with a slope. */
  private void study(String split, String label, String name, int size) throws Exception {
    Path file = dir.resolve(split).resolve(label).resolve(name);
    Files.createDirectories(file.getParent());
    NiftiFile nifti = new NiftiFile();
    nifti.datatype = 4;
    nifti.slope = 0.5;
    nifti.dims = new int[] {size, size, size};
    nifti.values = new double[size * size * size];
    for (int i = 0; i < nifti.values.length; i++) {
      nifti.values[i] = 100 + i % 7;
    }
    if (label.equals("lesion")) {
      nifti.values[(size / 2 * size + size / 2) * size + size / 2] = 2000;
    }
    nifti.write(file);
  }

  private DatasetDeclaration declaration(VolumePreprocessing volume) {
    return new DatasetDeclaration("brains", DatasetKind.IMAGING, DatasetFormat.VOLUME_FOLDERS, dir, CLASSES,
        DatasetDeclaration.Options.DEFAULTS.withVolume(volume));
  }

  private static VolumePreprocessing resizedTo(int size) {
    return new VolumePreprocessing(Optional.of(new VolumePreprocessing.Size(size, size, size)), Optional.empty(),
        new VolumePreprocessing.Intensity.ZScore(), OptionalInt.empty(), 0.5);
  }

  @Test
  void load_classFoldersOfMixedSizes_resamplesToTheDeclaredSize_andScalesEachVolume() throws Exception {
    study("train", "healthy", "a.nii.gz", 6);
    study("train", "lesion", "b.nii", 8);
    study("train", "lesion", "c.nii.gz", 5);
    study("test", "healthy", "d.nii", 8);

    LocalDataset data = DatasetLoaders.load(declaration(resizedTo(4)));

    assertArrayEquals(new long[] {1, 4, 4, 4}, data.inputShape());
    INDArray train = data.train().getFeatures();
    assertArrayEquals(new long[] {3, 1, 4, 4, 4}, train.shape());
    assertArrayEquals(new long[] {1, 1, 4, 4, 4}, data.test().getFeatures().shape());
    assertArrayEquals(new float[] {1, 0, 0, 1, 0, 1}, data.train().getLabels().data().asFloat());
    for (int i = 0; i < 3; i++) {
      INDArray volume = train.slice(i);
      assertEquals(0, volume.meanNumber().doubleValue(), 1e-4, "volume " + i + " is centred");
      assertEquals(1, volume.stdNumber().doubleValue(), 0.05, "volume " + i + " is scaled");
    }
  }

  @Test
  void load_windowIntensity_mapsModalityValuesToUnitRange() throws Exception {
    study("train", "healthy", "a.nii", 4);
    study("test", "lesion", "b.nii", 4);
    VolumePreprocessing window = new VolumePreprocessing(Optional.empty(), Optional.empty(),
        new VolumePreprocessing.Intensity.Window(new DicomWindow(50, 20)), OptionalInt.empty(), 0.5);

    LocalDataset data = DatasetLoaders.load(declaration(window));

    INDArray test = data.test().getFeatures();
    assertEquals(1.0, test.maxNumber().doubleValue(), 1e-6, "the lesion (2000 x 0.5) is above the window");
    assertEquals(0.5, test.minNumber().doubleValue(), 1e-6, "100 x 0.5 = 50 is the window's centre");
  }

  @Test
  void load_withoutResize_differentSizes_namesTheFileAndTheFix() throws Exception {
    study("train", "healthy", "a.nii", 4);
    study("train", "lesion", "b.nii", 5);
    study("test", "lesion", "c.nii", 4);

    DataLoadException e = assertThrows(DataLoadException.class,
        () -> DatasetLoaders.load(declaration(VolumePreprocessing.DEFAULTS)));

    assertEquals(dir.resolve("train/lesion/b.nii") + ": volume is 5x5x5 (depth x height x width, after reorienting"
        + " to RAS+) but earlier volumes are 4x4x4; add resize: [DEPTH, HEIGHT, WIDTH] to the dataset's declaration",
        e.getMessage());
  }

  @Test
  void load_volumesTooLargeForTheDeclaredHeapShare_isRefusedWithTheNumbers() throws Exception {
    study("train", "healthy", "a.nii", 4);
    study("test", "lesion", "b.nii", 4);
    VolumePreprocessing tight = new VolumePreprocessing(Optional.of(new VolumePreprocessing.Size(64, 64, 64)),
        Optional.empty(), new VolumePreprocessing.Intensity.ZScore(), OptionalInt.empty(), 1e-9);

    DataLoadException e = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(declaration(tight)));

    assertTrue(e.getMessage().startsWith("dataset 'brains': 2 volumes of 64x64x64 voxels need about 4 MiB (2 x 2 x"
        + " 262144 x 4 bytes) but memory_share 1.0E-9 of the "), e.getMessage());
    assertTrue(e.getMessage().endsWith("; declare a smaller resize, raise memory_share, or start the agent with a"
        + " larger -Xmx"), e.getMessage());
  }

  @Test
  void load_aStrayFileInAClassFolder_namesIt_andBadRowsSkipCountsIt() throws Exception {
    study("train", "healthy", "a.nii", 4);
    study("test", "lesion", "b.nii", 4);
    Path stray = dir.resolve("train/healthy/notes.txt");
    Files.writeString(stray, "scanner notes");

    DataLoadException e = assertThrows(DataLoadException.class,
        () -> DatasetLoaders.load(declaration(VolumePreprocessing.DEFAULTS)));
    DatasetDeclaration skipping = new DatasetDeclaration("brains", DatasetKind.IMAGING, DatasetFormat.VOLUME_FOLDERS,
        dir, CLASSES, DatasetDeclaration.Options.DEFAULTS.withSkipBadRows(true));
    DatasetLoaders.Loaded loaded = DatasetLoaders.loadReporting(skipping);

    assertEquals(stray + ": not a study: expected a NIfTI volume (.nii or .nii.gz), a multi-frame DICOM file (.dcm"
        + " or no extension) or a folder holding one DICOM series", e.getMessage());
    assertEquals(List.of(e.getMessage()), loaded.skipped());
    assertEquals(1, loaded.dataset().trainSamples());
  }

  private DatasetDeclaration manifest(String... rows) throws Exception {
    Path manifest = dir.resolve("studies.csv");
    Files.writeString(manifest, String.join("\n", rows) + "\n");
    return new DatasetDeclaration("brains", DatasetKind.IMAGING, DatasetFormat.VOLUME_FOLDERS, manifest, CLASSES,
        DatasetDeclaration.Options.DEFAULTS.withVolume(resizedTo(4)));
  }

  @Test
  void load_aManifest_readsTheListedStudies_withGivenSplitsKept_andTheRestDealtBySeed() throws Exception {
    study("scans", "lesion", "a.nii", 4);
    study("scans", "healthy", "b.nii.gz", 5);
    study("scans", "lesion", "c.nii", 4);
    study("scans", "healthy", "d.nii", 6);

    LocalDataset data = DatasetLoaders.load(manifest("study,label,split", "scans/lesion/a.nii,lesion,test",
        "scans/healthy/b.nii.gz,healthy,", "scans/lesion/c.nii,lesion,", "scans/healthy/d.nii,healthy,"));

    // a is the declared test study; of the 3 unsplit, the default test_fraction (0.25) holds back round(0.75) = 1.
    assertEquals(2, data.trainSamples());
    assertArrayEquals(new long[] {2, 1, 4, 4, 4}, data.test().getFeatures().shape());
    assertArrayEquals(new float[] {0, 1}, data.test().getLabels().getRow(1).toFloatVector(),
        "the declared test study comes after the dealt one, with its label");
    INDArray lesionTest = data.test().getFeatures().slice(1);
    assertTrue(lesionTest.maxNumber().doubleValue() > 3, "the lesion study's bright voxel survives resampling");
  }

  @Test
  void load_aManifestRowNamingAMissingStudyOrANonStudy_namesTheLine() throws Exception {
    study("scans", "healthy", "a.nii", 4);
    Files.writeString(dir.resolve("scans/report.pdf"), "not a volume");

    DataLoadException missing = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(manifest(
        "study,label", "scans/healthy/a.nii,healthy", "scans/healthy/gone.nii,lesion")));
    DataLoadException notAStudy = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(manifest(
        "study,label", "scans/healthy/a.nii,healthy", "scans/report.pdf,lesion")));
    DataLoadException header = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(manifest(
        "path,label", "scans/healthy/a.nii,healthy")));

    Path csv = dir.resolve("studies.csv");
    assertEquals(csv + ":3: " + dir.resolve("scans/healthy/gone.nii") + " does not exist", missing.getMessage());
    assertEquals(csv + ":3: " + dir.resolve("scans/report.pdf") + " is not a study: expected a NIfTI volume (.nii or"
        + " .nii.gz), a multi-frame DICOM file (.dcm or no extension) or a folder holding one DICOM series",
        notAStudy.getMessage());
    assertEquals(csv + ":1: header must name the columns 'study' and 'label' (and optionally 'split'), got [path,"
        + " label]", header.getMessage());
  }

  private DatasetDeclaration survival(Path location) {
    return new DatasetDeclaration("brains", DatasetKind.IMAGING, DatasetFormat.VOLUME_SURVIVAL, location, List.of(),
        DatasetDeclaration.Options.DEFAULTS.withVolume(resizedTo(4)));
  }

  @Test
  void load_aSurvivalManifest_labelsEachStudyWithTimeAndEvent_andABadEventNamesTheLine() throws Exception {
    study("scans", "lesion", "a.nii", 4);
    study("scans", "healthy", "b.nii", 5);
    study("scans", "lesion", "c.nii", 4);
    Path manifest = dir.resolve("survival.csv");
    Files.writeString(manifest, "study,time,event,split\nscans/lesion/a.nii,12.5,1,train\nscans/healthy/b.nii,40,0,train\n"
        + "scans/lesion/c.nii,7,1,test\n");

    LocalDataset data = DatasetLoaders.load(survival(manifest));
    Files.writeString(manifest, "study,time,event\nscans/lesion/a.nii,12.5,yes\n");
    DataLoadException badEvent = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(survival(manifest)));
    DataLoadException folder = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(survival(dir)));

    assertArrayEquals(new long[] {2, 1, 4, 4, 4}, data.train().getFeatures().shape());
    assertArrayEquals(new float[] {12.5f, 1, 40, 0}, data.train().getLabels().data().asFloat());
    assertArrayEquals(new float[] {7, 1}, data.test().getLabels().data().asFloat());
    assertEquals(List.of(), data.classes());
    assertEquals(manifest + ":2: column 'event' holds 'yes', which is not a finite number", badEvent.getMessage());
    assertEquals("dataset 'brains': format volume_survival reads a CSV manifest (study,time,event[,split]); " + dir
        + " is a folder", folder.getMessage());
  }

  @Test
  void load_dicomSeriesFoldersMultiFrameFilesAndNifti_giveOneTensor_andASeriesEqualsItsNiftiConversion()
      throws Exception {
    double[] axial = {1, 0, 0, 0, 1, 0};
    DicomSeriesTest.series(dir.resolve("train/healthy/study1"), axial, 5, 4, 3, 2);
    DicomFile multi = DicomSeriesTest.slice(axial, 0, 4, 3, 2);
    multi.spacingBetweenSlices = 2;
    multi.stored = new short[4 * 4 * 3];
    Files.createDirectories(dir.resolve("train/lesion"));
    multi.write(dir.resolve("train/lesion/study2.dcm"));
    DicomSeriesTest.niftiOf(dir.resolve("test/healthy/study1.nii"), axial, 5, 4, 3, 2);
    VolumePreprocessing resized = new VolumePreprocessing(Optional.of(new VolumePreprocessing.Size(4, 4, 4)),
        Optional.empty(), new VolumePreprocessing.Intensity.None(), OptionalInt.empty(), 0.5);

    LocalDataset data = DatasetLoaders.load(declaration(resized));

    assertArrayEquals(new long[] {2, 1, 4, 4, 4}, data.train().getFeatures().shape());
    assertArrayEquals(new float[] {1, 0, 0, 1}, data.train().getLabels().data().asFloat());
    assertArrayEquals(data.test().getFeatures().slice(0).dup().data().asFloat(),
        data.train().getFeatures().slice(0).dup().data().asFloat(), 1e-4f, "the DICOM series and its NIfTI"
        + " conversion");
  }

  @Test
  void load_aBrokenDicomStudy_namesItsFiles() throws Exception {
    study("test", "lesion", "b.nii", 4);
    Path series = DicomSeriesTest.series(dir.resolve("train/healthy/study1"), new double[] {1, 0, 0, 0, 1, 0}, 4,
        2, 2, 1);
    Files.delete(series.resolve("IM2.dcm"));

    DataLoadException e = assertThrows(DataLoadException.class,
        () -> DatasetLoaders.load(declaration(VolumePreprocessing.DEFAULTS)));

    assertTrue(e.getMessage().startsWith(series + ": a slice is missing between IM3.dcm at 41 mm and IM1.dcm at 43"
        + " mm"), e.getMessage());
  }

  @Test
  void declaration_tableNormalisationOnVolumes_isRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DatasetDeclaration("brains",
        DatasetKind.IMAGING, DatasetFormat.VOLUME_FOLDERS, dir, CLASSES,
        DatasetDeclaration.Options.DEFAULTS.withNormalisation(Normalisation.ZSCORE)));

    assertEquals("dataset 'brains': normalise applies to tables; for volumes declare intensity: zscore |"
        + " window | none", e.getMessage());
  }

  @Test
  void load_declaredSpacing_resamplesEachStudyToIt_soADicomSeriesAndA1mmNiftiOfOneExtentLineUp() throws Exception {
    // 4 slices 2 mm apart of 3 x 2 pixels of 0.8 x 0.6 mm; at [1, 0.4, 0.3] mm: 8 x 6 x 4 voxels.
    DicomSeriesTest.series(dir.resolve("train/healthy/study1"), new double[] {1, 0, 0, 0, 1, 0}, 4, 3, 2, 2);
    study("test", "lesion", "b.nii", 4);
    VolumePreprocessing spacing = new VolumePreprocessing(Optional.empty(),
        Optional.of(new VolumePreprocessing.Spacing(1, 0.4, 0.3)), new VolumePreprocessing.Intensity.None(),
        OptionalInt.empty(), 0.5);

    DataLoadException e = assertThrows(DataLoadException.class, () -> DatasetLoaders.load(declaration(spacing)));
    Files.delete(dir.resolve("test/lesion/b.nii"));
    NiftiFile nifti = new NiftiFile();
    nifti.dims = new int[] {4, 6, 8};
    nifti.srow = new double[][] {{0.3, 0, 0, 0}, {0, 0.4, 0, 0}, {0, 0, 1, 0}};
    nifti.values = new double[4 * 6 * 8];
    nifti.write(dir.resolve("test/lesion/b.nii"));
    LocalDataset data = DatasetLoaders.load(declaration(spacing));

    assertEquals(dir.resolve("test/lesion/b.nii") + ": volume is 4x10x13 (depth x height x width, after reorienting"
        + " to RAS+ and resampling to spacing [1.0, 0.4, 0.3] mm) but earlier volumes are 8x6x4; declare resize:"
        + " [DEPTH, HEIGHT, WIDTH] to the dataset's declaration instead of spacing (its studies cover different"
        + " fields of view)", e.getMessage());
    assertArrayEquals(new long[] {1, 8, 6, 4}, data.inputShape());
  }

  @Test
  void spacing_resamplesEachAxisByItsOwnRatio_andIsNotDeclaredWithResize() {
    NiftiVolumes.Volume volume = new NiftiVolumes.Volume(new float[] {0, 1, 2, 3}, 1, 1, 4,
        new VolumePreprocessing.Spacing(1, 1, 2));
    VolumePreprocessing halfMillimetre = new VolumePreprocessing(Optional.empty(),
        Optional.of(new VolumePreprocessing.Spacing(1, 1, 1)), new VolumePreprocessing.Intensity.None(),
        OptionalInt.empty(), 0.5);

    IllegalArgumentException both = assertThrows(IllegalArgumentException.class, () -> new VolumePreprocessing(
        Optional.of(new VolumePreprocessing.Size(2, 2, 2)), Optional.of(new VolumePreprocessing.Spacing(1, 1, 1)),
        new VolumePreprocessing.Intensity.None(), OptionalInt.empty(), 0.5));

    assertArrayEquals(new long[] {1, 1, 1, 8}, halfMillimetre.shape(volume));
    assertArrayEquals(VolumePreprocessing.trilinear(volume.values(), 1, 1, 4, 1, 1, 8),
        halfMillimetre.apply(volume), 0);
    assertEquals("spacing and resize are both declared; declare one (resize after resampling to a spacing would"
        + " change the spacing again)", both.getMessage());
  }

  @Test
  void trilinear_rampHalved_samplesAtVoxelCentres() {
    float[] ramp = {0, 1, 2, 3};

    assertArrayEquals(new float[] {0.5f, 2.5f}, VolumePreprocessing.trilinear(ramp, 1, 1, 4, 1, 1, 2), 1e-6f);
  }
}
