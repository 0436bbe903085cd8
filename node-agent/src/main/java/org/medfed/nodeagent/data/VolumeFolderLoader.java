package org.medfed.nodeagent.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads volumes laid out folder-per-class ({@code split/class/study}, as {@link ImageFolderLoader}
 * reads 2D images) or listed in a CSV {@link Manifest} ({@code study,label[,split]} when
 * {@code location} is a file; {@code study,time,event[,split]} for {@code volume_survival}) into
 * NCDHW float tensors of shape {@code [n, 1, D, H, W]}, each volume brought to RAS+,
 * resampled and scaled by the declaration's {@link VolumePreprocessing}. A study is a NIfTI file
 * ({@code .nii}, {@code .nii.gz}, read by {@link NiftiVolumes}), a folder holding one DICOM series or
 * a multi-frame DICOM file ({@code .dcm} or no extension, both read by {@link DicomSeries}).
 * Before the bulk is read, the memory the volumes will take is checked against the declared share
 * of the heap, so an over-large dataset is refused with its numbers instead of ending in an
 * OutOfMemoryError halfway through.
 */
final class VolumeFolderLoader {
  private VolumeFolderLoader() {}

  static LocalDataset load(DatasetDeclaration declaration, BadRows badRows) {
    Path root = declaration.location();
    boolean survival = declaration.format().survival();
    List<Study> train;
    List<Study> test;
    if (Files.isRegularFile(root)) {
      Manifest.Splits<float[]> splits = Manifest.read(declaration, "study", VolumeFolderLoader::isStudy,
          "a study: expected a NIfTI volume (.nii or .nii.gz), a multi-frame DICOM file (.dcm or no extension) or a"
          + " folder holding one DICOM series", survival ? List.of("time", "event") : List.of("label"),
          survival ? (cells, where) -> SurvivalTableLoader.outcome(cells.get(0), cells.get(1), where)
              : (cells, where) -> oneHot(Labels.indexOf(declaration.classes(), cells.get(0), where),
                  declaration.classes().size()), badRows);
      train = splits.train().stream().map(e -> new Study(e.file(), e.outcome())).toList();
      test = splits.test().stream().map(e -> new Study(e.file(), e.outcome())).toList();
    } else if (survival) {
      throw new DataLoadException("dataset '" + declaration.name() + "': format volume_survival reads a CSV manifest"
          + " (study,time,event[,split]); " + root + (Files.isDirectory(root) ? " is a folder" : " does not exist"));
    } else if (Files.isDirectory(root)) {
      train = studies(root.resolve("train"), declaration, badRows);
      test = studies(root.resolve("test"), declaration, badRows);
    } else {
      throw new DataLoadException("dataset '" + declaration.name() + "': " + root + " does not exist; point"
          + " 'location' at a folder with train/ and test/ inside, or at a CSV manifest (study,label[,split])");
    }
    if (train.isEmpty() && test.isEmpty()) {
      throw new DataLoadException("dataset '" + declaration.name() + "': no studies (.nii or .nii.gz files, DICOM"
          + " series folders or multi-frame DICOM files) " + (Files.isRegularFile(root) ? "listed in " + root
          : "under " + root + "/train or " + root + "/test"));
    }
    Reader reader = new Reader(declaration, train.size() + test.size(), badRows);
    Split trainSplit = reader.read(train);
    Split testSplit = reader.read(test);
    long[] shape = reader.shape;
    if (shape == null) {
      throw new DataLoadException("dataset '" + declaration.name() + "': none of the volumes "
          + (Files.isRegularFile(root) ? "listed in " : "under ") + root + " could be read");
    }
    int labelWidth = survival ? 2 : declaration.classes().size();
    return new LocalDataset(declaration.name(), declaration.kind(), shape, declaration.classes(),
        trainSplit.toDataSet(shape, labelWidth), testSplit.toDataSet(shape, labelWidth));
  }

  private static float[] oneHot(int label, int classes) {
    float[] row = new float[classes];
    row[label] = 1;
    return row;
  }

  /** A study and its label row: one-hot over the classes, or [time, event]. */
  private record Study(Path file, float[] label) {
    NiftiVolumes.Volume read(VolumePreprocessing preprocessing) {
      return isNifti(file) ? NiftiVolumes.read(file, preprocessing.volume()) : DicomSeries.read(file);
    }
  }

  private static boolean isNifti(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".nii") || name.endsWith(".nii.gz");
  }

  /** DICOM files are often named without an extension (IM0001, 1.2.840...), so those are tried too. */
  private static boolean isDicomFile(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".dcm") || name.endsWith(".dicom") || !name.contains(".")
        || name.matches("[0-9.]+");
  }

  private static boolean isStudy(Path entry) {
    return Files.isDirectory(entry) || Files.isRegularFile(entry) && (isNifti(entry) || isDicomFile(entry));
  }

  private static List<Study> studies(Path splitDir, DatasetDeclaration declaration, BadRows badRows) {
    if (!Files.isDirectory(splitDir)) {
      throw new DataLoadException("dataset '" + declaration.name() + "': missing folder " + splitDir);
    }
    List<Study> studies = new ArrayList<>();
    for (Path classDir : list(splitDir).stream().filter(Files::isDirectory).toList()) {
      int label = Labels.indexOf(declaration.classes(), classDir.getFileName().toString(), classDir.toString());
      List<Path> entries = list(classDir).stream().filter(f -> !f.getFileName().toString().startsWith(".")).toList();
      if (entries.isEmpty()) {
        badRows.report(new DataLoadException(classDir + ": class folder is empty; add its volumes or remove it"));
      }
      for (Path entry : entries) {
        if (isStudy(entry)) {
          studies.add(new Study(entry, oneHot(label, declaration.classes().size())));
        } else {
          badRows.report(new DataLoadException(entry + ": not a study: expected a NIfTI volume (.nii or .nii.gz), a"
              + " multi-frame DICOM file (.dcm or no extension) or a folder holding one DICOM series"));
        }
      }
    }
    return studies;
  }

  private static List<Path> list(Path dir) {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.sorted().toList();
    } catch (IOException e) {
      throw new DataLoadException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Reads volumes of both splits, holding them to one shape and checking memory once the shape is known. */
  private static final class Reader {
    private final DatasetDeclaration declaration;
    private final VolumePreprocessing preprocessing;
    private final int studies;
    private final BadRows badRows;
    long[] shape;

    Reader(DatasetDeclaration declaration, int studies, BadRows badRows) {
      this.declaration = declaration;
      this.preprocessing = declaration.options().volume();
      this.studies = studies;
      this.badRows = badRows;
    }

    Split read(List<Study> studies) {
      Split split = new Split();
      for (Study study : studies) {
        try {
          NiftiVolumes.Volume volume = study.read(preprocessing);
          checkShape(study.file(), volume);
          split.voxels.add(preprocessing.apply(volume));
          split.labels.add(study.label());
        } catch (DataLoadException problem) {
          badRows.report(problem);
        }
      }
      return split;
    }

    private void checkShape(Path file, NiftiVolumes.Volume volume) {
      long[] own = preprocessing.shape(volume);
      if (shape == null) {
        checkMemory(own);
        shape = own;
      } else if (!Arrays.equals(shape, own)) {
        String resampled = preprocessing.spacing().map(s -> " and resampling to spacing [" + s.depth() + ", "
            + s.height() + ", " + s.width() + "] mm").orElse("");
        throw new DataLoadException(file + ": volume is " + own[1] + "x" + own[2] + "x" + own[3] + " (depth x height"
            + " x width, after reorienting to RAS+" + resampled + ") but earlier volumes are " + shape[1] + "x"
            + shape[2] + "x" + shape[3] + "; " + (resampled.isEmpty() ? "add" : "declare") + " resize: [DEPTH,"
            + " HEIGHT, WIDTH] to the dataset's declaration" + (resampled.isEmpty() ? "" : " instead of spacing (its"
            + " studies cover different fields of view)"));
      }
    }

    private void checkMemory(long[] sampleShape) {
      long voxels = sampleShape[1] * sampleShape[2] * sampleShape[3];
      // float32 voxels, counted twice: the Java arrays read here and the tensor built from them.
      long needed = 2L * studies * voxels * Float.BYTES;
      long heap = Runtime.getRuntime().maxMemory();
      long allowed = (long) (heap * preprocessing.heapShare());
      if (needed > allowed) {
        throw new DataLoadException("dataset '" + declaration.name() + "': " + studies + " volumes of " + sampleShape[1]
            + "x" + sampleShape[2] + "x" + sampleShape[3] + " voxels need about " + size(needed) + " (2 x " + studies
            + " x " + voxels + " x 4 bytes) but memory_share " + preprocessing.heapShare() + " of the " + size(heap)
            + " heap allows " + size(allowed) + "; declare a smaller resize, raise memory_share, or start the"
            + " agent with a larger -Xmx");
      }
    }

    private static String size(long bytes) {
      return bytes < 1024 * 1024 ? bytes + " bytes" : Math.round(bytes / (1024.0 * 1024.0)) + " MiB";
    }
  }

  private static final class Split {
    final List<float[]> voxels = new ArrayList<>();
    final List<float[]> labels = new ArrayList<>();

    DataSet toDataSet(long[] sampleShape, int labelWidth) {
      int n = voxels.size();
      int size = (int) (sampleShape[1] * sampleShape[2] * sampleShape[3]);
      float[] flat = new float[n * size];
      for (int i = 0; i < n; i++) {
        System.arraycopy(voxels.get(i), 0, flat, i * size, size);
      }
      return new DataSet(Nd4j.create(flat, new long[] {n, 1, sampleShape[1], sampleShape[2], sampleShape[3]},
          DataType.FLOAT), n == 0 ? Nd4j.create(DataType.FLOAT, 0, labelWidth) : Nd4j.create(labels.toArray(new float[0][])));
    }
  }
}
