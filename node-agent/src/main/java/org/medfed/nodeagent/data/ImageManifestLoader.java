package org.medfed.nodeagent.data;

import java.nio.file.Files;
import java.util.List;

/**
 * Reads images listed in a CSV {@link Manifest} ({@code path,label[,split]}), PNG or JPEG, all the
 * same size. A missing or corrupt image, an unknown label or a bad split value fails the load
 * naming the manifest row.
 */
final class ImageManifestLoader {
  private ImageManifestLoader() {}

  static LocalDataset load(DatasetDeclaration declaration, BadRows badRows) {
    Manifest.Splits<Integer> splits = Manifest.read(declaration, "path", Files::isRegularFile, "an image file",
        List.of("label"), Manifest.classLabel(declaration.classes()), badRows);
    ImageFolderLoader.Split train = new ImageFolderLoader.Split();
    ImageFolderLoader.Split test = new ImageFolderLoader.Split();
    for (Manifest.Entry<Integer> entry : splits.train()) {
      add(train, entry, train, test, declaration.options(), badRows);
    }
    for (Manifest.Entry<Integer> entry : splits.test()) {
      add(test, entry, train, test, declaration.options(), badRows);
    }
    long[] shape = train.shape != null ? train.shape : test.shape;
    if (shape == null) {
      throw new DataLoadException(declaration.location() + ": lists no images");
    }
    int classes = declaration.classes().size();
    return new LocalDataset(declaration.name(), declaration.kind(), shape, declaration.classes(),
        train.toDataSet(shape, classes), test.toDataSet(shape, classes));
  }

  private static void add(ImageFolderLoader.Split into, Manifest.Entry<Integer> entry, ImageFolderLoader.Split train,
      ImageFolderLoader.Split test, DatasetDeclaration.Options options, BadRows badRows) {
    // Both splits must share one image size: the first image read sets it for both.
    long[] shape = train.shape != null ? train.shape : test.shape;
    into.shape = shape;
    float[] pixels;
    try {
      pixels = ImageFolderLoader.readImage(entry.file(), into, options);
    } catch (DataLoadException e) {
      badRows.report(new DataLoadException(entry.where() + ": " + e.getMessage(), e));
      return;
    }
    into.pixels.add(pixels);
    into.labels.add(entry.outcome());
    train.shape = into.shape;
    test.shape = into.shape;
  }
}
