package org.medfed.nodeagent.data;

/** The one place that maps a declared format to its loader. */
public final class DatasetLoaders {
  private DatasetLoaders() {}

  /** @throws DataLoadException naming the file and what to fix */
  public static LocalDataset load(DatasetDeclaration declaration) {
    LocalDataset dataset = switch (declaration.format()) {
      case IMAGE_FOLDERS -> ImageFolderLoader.load(declaration);
      case CSV_MATRIX -> CsvMatrixLoader.load(declaration);
      case CSV_SURVIVAL -> SurvivalTableLoader.load(declaration);
    };
    if (dataset.trainSamples() == 0) {
      throw new DataLoadException("dataset '" + declaration.name() + "' at " + declaration.location()
          + " has no training samples");
    }
    return dataset;
  }
}
