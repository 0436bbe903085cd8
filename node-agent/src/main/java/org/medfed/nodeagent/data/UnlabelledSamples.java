package org.medfed.nodeagent.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Samples without labels, read from a path of the user's choosing with a declared dataset's loader
 * settings (image preprocessing, DICOM window, matrix orientation): what {@code medfed-agent predict}
 * feeds a model. Built by {@link DatasetLoaders#loadUnlabelled}. Arrays and lists are copied.
 *
 * @param ids each sample's id: an image's file name or a table's sample id, in row order
 * @param features one row per sample: {@code [n, features]} or {@code [n, channels, height, width]}
 * @param featureNames the id of each feature column when the file names them; empty for images
 * @param skipped bad records skipped as the declaration allows ({@code bad_rows: skip})
 */
public record UnlabelledSamples(String datasetName, List<String> ids, INDArray features, long[] inputShape,
    List<String> featureNames, List<String> skipped) {

  public UnlabelledSamples {
    Objects.requireNonNull(features, "features");
    ids = List.copyOf(ids);
    inputShape = inputShape.clone();
    featureNames = List.copyOf(featureNames);
    skipped = List.copyOf(skipped);
    if (features.size(0) != ids.size()) {
      throw new IllegalArgumentException(ids.size() + " sample ids for " + features.size(0) + " rows");
    }
  }

  @Override
  public long[] inputShape() {
    return inputShape.clone();
  }

  UnlabelledSamples withFeatures(INDArray values, List<String> names) {
    return new UnlabelledSamples(datasetName, ids, values, new long[] {names.size()}, names, skipped);
  }

  /** Reads {@code input} as the declaration's format would read its files, but without labels or splits. */
  static UnlabelledSamples read(DatasetDeclaration declaration, Path input, BadRows badRows) {
    UnlabelledSamples samples = switch (declaration.format()) {
      case IMAGE_FOLDERS, IMAGE_MANIFEST -> images(declaration, input, badRows);
      case EXPRESSION_MATRIX -> matrix(declaration, input, badRows);
      case CSV_MATRIX, CSV_SURVIVAL -> table(declaration, input, badRows);
      case VCF -> throw new DataLoadException("dataset '" + declaration.name() + "' is declared as a VCF;"
          + " predict reads image folders and tables only, so export the dosages as an expression matrix");
      case FHIR, FHIR_SURVIVAL -> throw new DataLoadException("dataset '" + declaration.name() + "' holds FHIR records; predict"
          + " does not read FHIR yet (it reads image folders and tables); evaluate with the job instead");
      case OMOP, OMOP_SURVIVAL -> throw new DataLoadException("dataset '" + declaration.name() + "' is an OMOP"
          + " cohort; predict does not read OMOP yet (it reads image folders and tables); evaluate with the job"
          + " instead");
      case VOLUME_FOLDERS, VOLUME_SURVIVAL -> throw new DataLoadException("dataset '" + declaration.name() + "' holds NIfTI volumes;"
          + " predict does not read volumes yet (it reads image folders and tables); evaluate with the job instead");
    };
    if (samples.ids().isEmpty()) {
      throw new DataLoadException("no samples in " + input + " to predict");
    }
    return samples;
  }

  /** Every image file directly in the folder (PNG, JPEG or DICOM), in name order. */
  private static UnlabelledSamples images(DatasetDeclaration declaration, Path folder, BadRows badRows) {
    if (!Files.isDirectory(folder)) {
      throw new DataLoadException("dataset '" + declaration.name() + "' holds images, so --input must be a folder"
          + " of images; " + folder + " is not a folder");
    }
    List<Path> files;
    try (Stream<Path> entries = Files.list(folder)) {
      files = entries.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("."))
          .sorted().toList();
    } catch (IOException e) {
      throw new DataLoadException("cannot list " + folder + ": " + e.getMessage(), e);
    }
    ImageFolderLoader.Split split = new ImageFolderLoader.Split();
    List<String> ids = new ArrayList<>();
    for (Path file : files) {
      try {
        split.pixels.add(ImageFolderLoader.readImage(file, split, declaration.options()));
        ids.add(file.getFileName().toString());
      } catch (DataLoadException problem) {
        badRows.report(problem);
      }
    }
    long[] shape = split.shape == null ? new long[] {1, 1, 1} : split.shape;
    return new UnlabelledSamples(declaration.name(), ids, split.features(shape), shape, List.of(), badRows.skipped());
  }

  private static UnlabelledSamples matrix(DatasetDeclaration declaration, Path file, BadRows badRows) {
    ExpressionMatrixLoader.Matrix matrix = ExpressionMatrixLoader.read(file, declaration);
    List<String> ids = List.copyOf(matrix.samples().keySet());
    return rows(declaration, ids, List.copyOf(matrix.samples().values()), matrix.genes(), badRows);
  }

  /** A table {@code sample_id,<feature>...}: the declared table without its label columns. */
  private static UnlabelledSamples table(DatasetDeclaration declaration, Path file, BadRows badRows) {
    if (Files.isDirectory(file)) {
      throw new DataLoadException("dataset '" + declaration.name() + "' holds tables, so --input must be a CSV file"
          + " (sample_id,<feature>...); " + file + " is a folder");
    }
    CsvTable.Rows<String> rows = CsvTable.read(file, declaration, List.of("sample_id"),
        (cells, where) -> cells[0].trim(), badRows);
    return rows(declaration, rows.labels(), rows.values(), rows.features(), badRows);
  }

  private static UnlabelledSamples rows(DatasetDeclaration declaration, List<String> ids, List<float[]> values,
      List<String> features, BadRows badRows) {
    INDArray matrix = values.isEmpty() ? Nd4j.create(DataType.FLOAT, 0, features.size())
        : Nd4j.create(values.toArray(new float[0][]));
    return new UnlabelledSamples(declaration.name(), ids, matrix, new long[] {features.size()}, features,
        badRows.skipped());
  }

  @Override
  public String toString() {
    return "UnlabelledSamples[" + datasetName + ", " + ids.size() + " samples, shape=" + Arrays.toString(inputShape)
        + "]";
  }
}
