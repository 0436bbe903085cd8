package org.medfed.nodeagent.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Reads images listed in a CSV manifest ({@code path,label[,split]}, paths relative to the
 * manifest's folder), as PACS or lab exports often come. Without a split column a seeded
 * {@code test_fraction} is held out. A missing or corrupt image, an unknown label or a bad split
 * value fails the load naming the manifest row.
 */
final class ImageManifestLoader {
  private ImageManifestLoader() {}

  private record Entry(Path image, int label, String split, String where) {}

  static LocalDataset load(DatasetDeclaration declaration, BadRows badRows) {
    Path manifest = declaration.location();
    if (!Files.isRegularFile(manifest)) {
      throw new DataLoadException("dataset '" + declaration.name() + "': manifest " + manifest + " does not exist");
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(manifest, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new DataLoadException(manifest + ": cannot be read (" + e.getMessage() + ")", e);
    }
    List<String> header = lines.isEmpty() ? List.of() : List.of(lines.get(0).split(",", -1)).stream()
        .map(String::trim).toList();
    int pathColumn = header.indexOf("path");
    int labelColumn = header.indexOf("label");
    int splitColumn = header.indexOf("split");
    if (pathColumn < 0 || labelColumn < 0) {
      throw new DataLoadException(manifest + ":1: header must name the columns 'path' and 'label' (and optionally"
          + " 'split'), got " + header);
    }
    List<Entry> given = new ArrayList<>();
    List<Entry> unsplit = new ArrayList<>();
    Path base = manifest.toAbsolutePath().getParent();
    for (int r = 1; r < lines.size(); r++) {
      if (lines.get(r).isBlank()) {
        continue;
      }
      String where = manifest + ":" + (r + 1);
      try {
        String[] cells = lines.get(r).split(",", -1);
        if (cells.length != header.size()) {
          throw new DataLoadException(where + ": has " + cells.length + " columns but the header has " + header.size());
        }
        String split = splitColumn < 0 ? "" : cells[splitColumn].trim().toLowerCase(Locale.ROOT);
        if (!split.isEmpty() && !split.equals("train") && !split.equals("test")) {
          throw new DataLoadException(where + ": column 'split' holds '" + cells[splitColumn].trim()
              + "'; use train, test or leave it empty for a seeded split");
        }
        Path image = base.resolve(cells[pathColumn].trim()).normalize();
        if (!Files.isRegularFile(image)) {
          throw new DataLoadException(where + ": image " + image + " does not exist");
        }
        Entry entry = new Entry(image, Labels.indexOf(declaration.classes(), cells[labelColumn].trim(), where), split,
            where);
        (split.isEmpty() ? unsplit : given).add(entry);
      } catch (DataLoadException problem) {
        badRows.report(problem);
      }
    }
    Collections.shuffle(unsplit, new Random(declaration.options().splitSeed()));
    int held = (int) Math.round(unsplit.size() * declaration.options().testFraction());
    ImageFolderLoader.Split train = new ImageFolderLoader.Split();
    ImageFolderLoader.Split test = new ImageFolderLoader.Split();
    for (int i = 0; i < unsplit.size(); i++) {
      add(i < held ? test : train, unsplit.get(i), train, test, declaration.options(), badRows);
    }
    for (Entry entry : given) {
      add(entry.split().equals("test") ? test : train, entry, train, test, declaration.options(), badRows);
    }
    long[] shape = train.shape != null ? train.shape : test.shape;
    if (shape == null) {
      throw new DataLoadException(manifest + ": lists no images");
    }
    int classes = declaration.classes().size();
    return new LocalDataset(declaration.name(), declaration.kind(), shape, declaration.classes(),
        train.toDataSet(shape, classes), test.toDataSet(shape, classes));
  }

  private static void add(ImageFolderLoader.Split into, Entry entry, ImageFolderLoader.Split train,
      ImageFolderLoader.Split test, DatasetDeclaration.Options options, BadRows badRows) {
    // Both splits must share one image size: the first image read sets it for both.
    long[] shape = train.shape != null ? train.shape : test.shape;
    into.shape = shape;
    float[] pixels;
    try {
      pixels = ImageFolderLoader.readImage(entry.image(), into, options);
    } catch (DataLoadException e) {
      badRows.report(new DataLoadException(entry.where() + ": " + e.getMessage(), e));
      return;
    }
    into.pixels.add(pixels);
    into.labels.add(entry.label());
    train.shape = into.shape;
    test.shape = into.shape;
  }
}
