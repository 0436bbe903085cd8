package org.medfed.nodeagent.data;

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

  private static LocalDataset log1p(LocalDataset dataset, DatasetDeclaration declaration) {
    for (DataSet split : List.of(dataset.train(), dataset.test())) {
      if (!split.isEmpty() && split.numExamples() > 0 && split.getFeatures().minNumber().doubleValue() < 0) {
        throw new DataLoadException("dataset '" + declaration.name() + "' at " + declaration.location()
            + " has negative values; normalise: log1p needs values >= 0 (use zscore or none)");
      }
    }
    return new LocalDataset(dataset.name(), dataset.kind(), dataset.inputShape(), dataset.classes(),
        logOf(dataset.train()), logOf(dataset.test()), dataset.featureNames());
  }

  private static DataSet logOf(DataSet data) {
    if (data.isEmpty() || data.numExamples() == 0) {
      return data;
    }
    return new DataSet(Transforms.log(data.getFeatures().add(1), false), data.getLabels());
  }

  /** Standardises with the training split's per-feature mean and standard deviation. */
  private static LocalDataset zscore(LocalDataset dataset) {
    INDArray train = dataset.train().getFeatures();
    INDArray mean = train.mean(0).reshape(1, train.columns());
    double[] std = train.std(0).toDoubleVector();
    float[] scale = new float[std.length];
    for (int j = 0; j < std.length; j++) {
      // A constant feature is only shifted: dividing by a zero deviation would make it NaN.
      scale[j] = std[j] > 1e-12 ? (float) std[j] : 1f;
    }
    INDArray scaleRow = Nd4j.createFromArray(scale).reshape(1, scale.length).castTo(train.dataType());
    return new LocalDataset(dataset.name(), dataset.kind(), dataset.inputShape(), dataset.classes(),
        scaled(dataset.train(), mean, scaleRow), scaled(dataset.test(), mean, scaleRow), dataset.featureNames());
  }

  private static DataSet scaled(DataSet data, INDArray mean, INDArray scale) {
    if (data.isEmpty() || data.numExamples() == 0) {
      return data;
    }
    return new DataSet(data.getFeatures().subRowVector(mean).divRowVector(scale), data.getLabels());
  }
}
