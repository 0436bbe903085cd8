package org.medfed.nodeagent.data;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads folder-per-class images ({@code split/class/file.png}) into NCHW float tensors scaled to
 * [0, 1], resized and converted to the declared channels when the declaration asks. Without
 * {@code resize}, every image must have the same size; a mismatch or an unreadable file fails the
 * load (or is skipped and counted, as declared) with the file's path.
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
      return new DataSet(features(sampleShape),
          Labels.oneHot(labels.stream().mapToInt(Integer::intValue).toArray(), numClasses));
    }

    INDArray features(long[] sampleShape) {
      int n = pixels.size();
      int size = (int) (sampleShape[0] * sampleShape[1] * sampleShape[2]);
      float[] flat = new float[n * size];
      for (int i = 0; i < n; i++) {
        System.arraycopy(pixels.get(i), 0, flat, i * size, size);
      }
      return Nd4j.create(flat, new long[] {n, sampleShape[0], sampleShape[1], sampleShape[2]}, DataType.FLOAT);
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
          float[] image = readImage(file, split, declaration.options());
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
   * Reads one PNG/JPEG (8 or 16 bit, gray, RGB or palette) or one DICOM file (.dcm, through its
   * display window) into [0, 1], then applies the declaration's {@link ImagePreprocessing}; every
   * image of a split must come out the same shape.
   */
  static float[] readImage(Path file, Split split, DatasetDeclaration.Options options) {
    ImagePreprocessing preprocessing = options.image();
    if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".dcm")) {
      DicomImages.Pixels dicom = DicomImages.read(file, options.window());
      checkShape(file, split, preprocessing, dicom.height(), dicom.width());
      return preprocessing.apply(new float[][] {dicom.values()}, dicom.height(), dicom.width());
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
    int height = image.getHeight();
    int width = image.getWidth();
    checkShape(file, split, preprocessing, height, width);
    return preprocessing.apply(planes(image), height, width);
  }

  /** One plane for gray images, three (R, G, B) for colour ones; alpha is dropped. */
  private static float[][] planes(BufferedImage image) {
    int height = image.getHeight();
    int width = image.getWidth();
    if (image.getColorModel() instanceof IndexColorModel) {
      // Palette images store indices, not intensities: look each colour up.
      float[][] rgb = new float[3][height * width];
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          int argb = image.getRGB(x, y);
          rgb[0][y * width + x] = ((argb >> 16) & 0xff) / 255f;
          rgb[1][y * width + x] = ((argb >> 8) & 0xff) / 255f;
          rgb[2][y * width + x] = (argb & 0xff) / 255f;
        }
      }
      return rgb;
    }
    var raster = image.getRaster();
    int colourBands = raster.getNumBands() >= 3 ? 3 : 1;
    double max = (1 << image.getColorModel().getComponentSize(0)) - 1;
    float[][] planes = new float[colourBands][height * width];
    for (int b = 0; b < colourBands; b++) {
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          planes[b][y * width + x] = (float) (raster.getSampleDouble(x, y, b) / max);
        }
      }
    }
    return planes;
  }

  private static void checkShape(Path file, Split split, ImagePreprocessing preprocessing, int height, int width) {
    long[] shape = preprocessing.shape(height, width);
    if (split.shape == null) {
      split.shape = shape;
    } else if (!Arrays.equals(split.shape, shape)) {
      throw new DataLoadException(file + ": image is " + width + "x" + height + " but earlier images are "
          + split.shape[2] + "x" + split.shape[1] + "; add resize: [HEIGHT, WIDTH] to the dataset's declaration,"
          + " or export all images at one size");
    }
  }
}
