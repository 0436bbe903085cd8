package org.medfed.nodeagent.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads folder-per-class images ({@code split/class/file.png}) into NCHW float tensors scaled to
 * [0, 1]. Every image of a dataset must have the same size; a mismatch or an unreadable file fails
 * the load with the file's path, because silently dropping scans would bias the model.
 */
final class ImageFolderLoader {
  private ImageFolderLoader() {}

  static LocalDataset load(DatasetDeclaration declaration, BadRows badRows) {
    Path root = declaration.location();
    if (!Files.isDirectory(root)) {
      throw new DataLoadException("dataset '" + declaration.name() + "': folder " + root
          + " does not exist; point 'location' at a folder with train/ and test/ inside");
    }
    Split train = readSplit(root.resolve("train"), declaration, null, badRows);
    Split test = readSplit(root.resolve("test"), declaration, train.shape, badRows);
    long[] shape = train.shape != null ? train.shape : test.shape;
    if (shape == null) {
      throw new DataLoadException("dataset '" + declaration.name() + "': no images under " + root
          + "/train or " + root + "/test");
    }
    return new LocalDataset(declaration.name(), declaration.kind(), shape, declaration.classes(),
        train.toDataSet(shape, declaration.classes().size()), test.toDataSet(shape, declaration.classes().size()));
  }

  /** One split's images, all of one size. Shared with {@link ImageManifestLoader}. */
  static final class Split {
    final List<float[]> pixels = new ArrayList<>();
    final List<Integer> labels = new ArrayList<>();
    long[] shape;

    DataSet toDataSet(long[] sampleShape, int numClasses) {
      int n = pixels.size();
      int size = (int) (sampleShape[0] * sampleShape[1] * sampleShape[2]);
      float[] flat = new float[n * size];
      for (int i = 0; i < n; i++) {
        System.arraycopy(pixels.get(i), 0, flat, i * size, size);
      }
      var features = Nd4j.create(flat, new long[] {n, sampleShape[0], sampleShape[1], sampleShape[2]}, DataType.FLOAT);
      return new DataSet(features, Labels.oneHot(labels.stream().mapToInt(Integer::intValue).toArray(), numClasses));
    }
  }

  private static Split readSplit(Path splitDir, DatasetDeclaration declaration, long[] expectedShape,
      BadRows badRows) {
    Split split = new Split();
    split.shape = expectedShape;
    if (!Files.isDirectory(splitDir)) {
      throw new DataLoadException("dataset '" + declaration.name() + "': missing folder " + splitDir);
    }
    List<Path> classDirs;
    try (Stream<Path> dirs = Files.list(splitDir)) {
      classDirs = dirs.filter(Files::isDirectory).sorted().toList();
    } catch (IOException e) {
      throw new DataLoadException("cannot list " + splitDir + ": " + e.getMessage(), e);
    }
    for (Path classDir : classDirs) {
      int label = Labels.indexOf(declaration.classes(), classDir.getFileName().toString(), classDir.toString());
      List<Path> files;
      try (Stream<Path> entries = Files.list(classDir)) {
        files = entries.filter(Files::isRegularFile).sorted().toList();
      } catch (IOException e) {
        throw new DataLoadException("cannot list " + classDir + ": " + e.getMessage(), e);
      }
      if (files.isEmpty()) {
        badRows.report(new DataLoadException(classDir + ": class folder is empty; add its images or remove it"));
      }
      for (Path file : files) {
        try {
          float[] image = readGray(file, split, declaration.options().window());
          split.pixels.add(image);
          split.labels.add(label);
        } catch (DataLoadException problem) {
          badRows.report(problem);
        }
      }
    }
    return split;
  }

  /**
   * Reads one PNG/JPEG as grayscale in [0, 1] (RGB averaged), or one DICOM file (.dcm) through its
   * display window; every image of a split must match in size.
   */
  static float[] readGray(Path file, Split split, Optional<DicomWindow> window) {
    if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".dcm")) {
      DicomImages.Pixels dicom = DicomImages.read(file, window);
      checkShape(file, split, dicom.height(), dicom.width());
      return dicom.values();
    }
    BufferedImage image;
    try {
      image = ImageIO.read(file.toFile());
    } catch (IOException e) {
      throw new DataLoadException(file + ": cannot be read as an image (" + e.getMessage() + ")", e);
    }
    if (image == null) {
      throw new DataLoadException(file + ": not a PNG/JPEG image or the file is corrupt");
    }
    checkShape(file, split, image.getHeight(), image.getWidth());
    float[] pixels = new float[image.getHeight() * image.getWidth()];
    var raster = image.getRaster();
    int bands = raster.getNumBands();
    double max = (1 << image.getColorModel().getComponentSize(0)) - 1;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        double sum = 0;
        int colourBands = Math.min(bands, 3);
        for (int b = 0; b < colourBands; b++) {
          sum += raster.getSampleDouble(x, y, b);
        }
        pixels[y * image.getWidth() + x] = (float) (sum / colourBands / max);
      }
    }
    return pixels;
  }

  private static void checkShape(Path file, Split split, int height, int width) {
    long[] shape = {1, height, width};
    if (split.shape == null) {
      split.shape = shape;
    } else if (split.shape[1] != shape[1] || split.shape[2] != shape[2]) {
      throw new DataLoadException(file + ": image is " + shape[2] + "x" + shape[1] + " but earlier images are "
          + split.shape[2] + "x" + split.shape[1] + "; resize the export so all images match");
    }
  }
}
