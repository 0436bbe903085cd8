package org.medfed.nodeagent.data;

import java.nio.file.Path;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place that maps a declared format to its loader. */
public final class DatasetLoaders {
  private static final Logger log = LoggerFactory.getLogger(DatasetLoaders.class);
  private DatasetLoaders() {}

  /** A loaded dataset and the bad records skipped on the way (only with {@code bad_rows: skip}), each with file and row. */
  public record Loaded(LocalDataset dataset, List<String> skipped) {
    public Loaded {
      skipped = List.copyOf(skipped);
    }
  }

  /**
   * Loads a declared dataset; skipped records, if the declaration allows skipping, are logged.
   *
   * @throws DataLoadException naming the file and what to fix
   */
  public static LocalDataset load(DatasetDeclaration declaration) {
    Loaded loaded = loadReporting(declaration);
    if (!loaded.skipped().isEmpty()) {
      log.warn("dataset '{}': skipped {} bad record(s) as declared (bad_rows: skip): {}", declaration.name(),
          loaded.skipped().size(), loaded.skipped());
    }
    return loaded.dataset();
  }

  /** @throws DataLoadException naming the file and what to fix */
  public static Loaded loadReporting(DatasetDeclaration declaration) {
    BadRows badRows = BadRows.of(declaration);
    LocalDataset dataset = switch (declaration.format()) {
      case IMAGE_FOLDERS -> ImageFolderLoader.load(declaration, badRows);
      case CSV_MATRIX -> CsvMatrixLoader.load(declaration, badRows);
      case CSV_SURVIVAL -> SurvivalTableLoader.load(declaration, badRows);
      case EXPRESSION_MATRIX -> ExpressionMatrixLoader.load(declaration, badRows);
      case IMAGE_MANIFEST -> ImageManifestLoader.load(declaration, badRows);
      case VCF -> VcfLoader.load(declaration, badRows);
      case VOLUME_FOLDERS, VOLUME_SURVIVAL -> VolumeFolderLoader.load(declaration, badRows);
      case FHIR, FHIR_SURVIVAL -> FhirLoader.load(declaration, badRows);
      case OMOP, OMOP_SURVIVAL -> OmopLoader.load(declaration, badRows);
    };
    if (dataset.trainSamples() == 0) {
      throw new DataLoadException("dataset '" + declaration.name() + "' at " + declaration.location()
          + " has no training samples");
    }
    LocalDataset normalised = switch (declaration.options().normalisation()) {
      case NONE -> dataset;
      case ZSCORE -> zscore(dataset);
      case LOG1P -> log1p(dataset, declaration);
    };
    return new Loaded(normalised, badRows.skipped());
  }

  /**
   * Reads unlabelled samples from {@code input} as the declaration would read its own files, and
   * scales them as its training data is scaled: {@code log1p} alike; {@code zscore} with the
   * statistics of the declared dataset's training split (loaded for that), after aligning the
   * input's columns to the declared ones by id.
   *
   * @throws DataLoadException naming the file (and row) and what to fix
   */
  public static UnlabelledSamples loadUnlabelled(DatasetDeclaration declaration, Path input) {
    UnlabelledSamples samples = UnlabelledSamples.read(declaration, input, BadRows.of(declaration));
    return switch (declaration.options().normalisation()) {
      case NONE -> samples;
      case LOG1P -> samples.withFeatures(log1p(samples.features(), input.toString()), samples.featureNames());
      case ZSCORE -> {
        LocalDataset own = load(new DatasetDeclaration(declaration.name(), declaration.kind(), declaration.format(),
            declaration.location(), declaration.classes(), declaration.options().withNormalisation(Normalisation.NONE)));
        INDArray columns = FeatureAlignment.alignRows(declaration.name(), samples.features(), samples.featureNames(),
            own.featureNames(), declaration.options().missingFeatures());
        yield samples.withFeatures(ZScore.of(own.train().getFeatures()).apply(columns), own.featureNames());
      }
    };
  }

  private static LocalDataset log1p(LocalDataset dataset, DatasetDeclaration declaration) {
    String where = "dataset '" + declaration.name() + "' at " + declaration.location();
    return new LocalDataset(dataset.name(), dataset.kind(), dataset.inputShape(), dataset.classes(),
        logOf(dataset.train(), where), logOf(dataset.test(), where), dataset.featureNames());
  }

  private static DataSet logOf(DataSet data, String where) {
    if (data.isEmpty() || data.numExamples() == 0) {
      return data;
    }
    return new DataSet(log1p(data.getFeatures(), where), data.getLabels());
  }

  private static INDArray log1p(INDArray values, String where) {
    if (values.length() > 0 && values.minNumber().doubleValue() < 0) {
      throw new DataLoadException(where + " has negative values; normalise: log1p needs values >= 0"
          + " (use zscore or none)");
    }
    return Transforms.log(values.add(1), false);
  }

  /** Standardises with the training split's per-feature mean and standard deviation. */
  private static LocalDataset zscore(LocalDataset dataset) {
    ZScore zscore = ZScore.of(dataset.train().getFeatures());
    return new LocalDataset(dataset.name(), dataset.kind(), dataset.inputShape(), dataset.classes(),
        zscore.apply(dataset.train()), zscore.apply(dataset.test()), dataset.featureNames());
  }

  /** Per-feature mean and scale of a training split. */
  private record ZScore(INDArray mean, INDArray scale) {
    static ZScore of(INDArray train) {
      INDArray mean = train.mean(0).reshape(1, train.columns());
      double[] std = train.std(0).toDoubleVector();
      float[] scale = new float[std.length];
      for (int j = 0; j < std.length; j++) {
        // A constant feature is only shifted: dividing by a zero deviation would make it NaN.
        scale[j] = std[j] > 1e-12 ? (float) std[j] : 1f;
      }
      return new ZScore(mean, Nd4j.createFromArray(scale).reshape(1, scale.length).castTo(train.dataType()));
    }

    DataSet apply(DataSet data) {
      return data.isEmpty() || data.numExamples() == 0 ? data : new DataSet(apply(data.getFeatures()),
          data.getLabels());
    }

    INDArray apply(INDArray values) {
      return values.rows() == 0 ? values : values.castTo(mean.dataType()).subRowVector(mean).divRowVector(scale);
    }
  }
}
