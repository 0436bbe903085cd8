package org.medfed.nodeagent.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * A hospital's declaration of one local dataset, as written in its agent configuration.
 *
 * @param classes the class names in the order the consortium agreed on; a hospital may lack
 *     samples of some classes but must not have labels outside this list. Empty for survival
 *     data, whose labels are (time, event).
 */
public record DatasetDeclaration(String name, DatasetKind kind, DatasetFormat format, Path location,
    List<String> classes, Options options) {

  /**
   * How the hospital's files are read beyond their format.
   *
   * @param normalisation per-feature scaling
   * @param missingFeatures what to do when a job names features this dataset lacks
   * @param orientation for {@code expression_matrix}: genes (features) as rows or as columns
   * @param phenotypes for {@code expression_matrix}: the file with sample ids and labels
   * @param labelColumn the phenotype column holding the label
   * @param testFraction for {@code expression_matrix} and the image and volume manifests without a
   *     {@code split} column: the share of samples held out for testing, drawn with {@code splitSeed}
   * @param window for DICOM images: the display window; empty uses each file's own
   * @param skipBadRows skip (and count) bad records instead of failing the load
   * @param image for 2D imaging formats: resize and channel conversion
   * @param volume for {@code volume_folders} and {@code volume_survival}: the volume of a 4D file, resampling, intensity scaling
   *     and the memory share
   * @param fhir for {@code fhir}: how the records become features and a label
   * @param omop for {@code omop}: the database, the cohort and how its records become features
   */
  public record Options(Normalisation normalisation, MissingFeatures missingFeatures, Orientation orientation,
      Optional<Path> phenotypes, String labelColumn, double testFraction, long splitSeed,
      Optional<DicomWindow> window, boolean skipBadRows, ImagePreprocessing image, VolumePreprocessing volume,
      Optional<FhirMapping> fhir, Optional<OmopMapping> omop) {
    public static final Options DEFAULTS = new Options(Normalisation.NONE, MissingFeatures.FAIL,
        Orientation.GENES_BY_SAMPLES, Optional.empty(), "label", 0.25, 1, Optional.empty(), false,
        ImagePreprocessing.NONE, VolumePreprocessing.DEFAULTS, Optional.empty(), Optional.empty());

    /** The options with every field given except how bad rows are handled (they fail the load). */
    public Options(Normalisation normalisation, MissingFeatures missingFeatures, Orientation orientation,
        Optional<Path> phenotypes, String labelColumn, double testFraction, long splitSeed,
        Optional<DicomWindow> window) {
      this(normalisation, missingFeatures, orientation, phenotypes, labelColumn, testFraction, splitSeed, window,
          false, ImagePreprocessing.NONE, VolumePreprocessing.DEFAULTS, Optional.empty(), Optional.empty());
    }

    public Options {
      Objects.requireNonNull(normalisation, "normalisation");
      Objects.requireNonNull(missingFeatures, "missingFeatures");
      Objects.requireNonNull(orientation, "orientation");
      Objects.requireNonNull(window, "window");
      Objects.requireNonNull(image, "image");
      Objects.requireNonNull(volume, "volume");
      Objects.requireNonNull(fhir, "fhir");
      Objects.requireNonNull(omop, "omop");
      if (!(testFraction > 0 && testFraction < 1)) {
        throw new IllegalArgumentException("test_fraction must be in (0, 1), got " + testFraction);
      }
    }

    public Options withNormalisation(Normalisation value) {
      return new Options(value, missingFeatures, orientation, phenotypes, labelColumn, testFraction, splitSeed, window,
          skipBadRows, image, volume, fhir, omop);
    }

    public Options withWindow(DicomWindow value) {
      return new Options(normalisation, missingFeatures, orientation, phenotypes, labelColumn, testFraction, splitSeed,
          Optional.of(value), skipBadRows, image, volume, fhir, omop);
    }

    public Options withSkipBadRows(boolean value) {
      return new Options(normalisation, missingFeatures, orientation, phenotypes, labelColumn, testFraction, splitSeed,
          window, value, image, volume, fhir, omop);
    }

    public Options withImage(ImagePreprocessing value) {
      return new Options(normalisation, missingFeatures, orientation, phenotypes, labelColumn, testFraction, splitSeed,
          window, skipBadRows, value, volume, fhir, omop);
    }

    public Options withVolume(VolumePreprocessing value) {
      return new Options(normalisation, missingFeatures, orientation, phenotypes, labelColumn, testFraction, splitSeed,
          window, skipBadRows, image, value, fhir, omop);
    }

    public Options withFhir(FhirMapping value) {
      return new Options(normalisation, missingFeatures, orientation, phenotypes, labelColumn, testFraction, splitSeed,
          window, skipBadRows, image, volume, Optional.of(value), omop);
    }

    public Options withOmop(OmopMapping value) {
      return new Options(normalisation, missingFeatures, orientation, phenotypes, labelColumn, testFraction, splitSeed,
          window, skipBadRows, image, volume, fhir, Optional.of(value));
    }

    public Options withMissingFeatures(MissingFeatures value) {
      return new Options(normalisation, value, orientation, phenotypes, labelColumn, testFraction, splitSeed, window,
          skipBadRows, image, volume, fhir, omop);
    }
  }

  /** Whether an expression matrix holds one gene per row (the usual lab export) or one sample per row. */
  public enum Orientation { GENES_BY_SAMPLES, SAMPLES_BY_GENES }

  /** A declaration with default options. */
  public DatasetDeclaration(String name, DatasetKind kind, DatasetFormat format, Path location, List<String> classes) {
    this(name, kind, format, location, classes, Options.DEFAULTS);
  }

  public DatasetDeclaration {
    Objects.requireNonNull(options, "options");
    if (options.normalisation() != Normalisation.NONE
        && (format == DatasetFormat.IMAGE_FOLDERS || format == DatasetFormat.IMAGE_MANIFEST)) {
      throw new IllegalArgumentException("dataset '" + name + "': normalise applies to tables, not image folders");
    }
    if (options.normalisation() != Normalisation.NONE && format.volumes()) {
      // normalise scales each voxel position across patients; volumes are scaled each on its own.
      throw new IllegalArgumentException("dataset '" + name + "': normalise applies to tables; for volumes"
          + " declare intensity: zscore | window | none");
    }
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(location, "location");
    if (name.isBlank()) {
      throw new IllegalArgumentException("dataset name must not be blank");
    }
    if (format.survival()) {
      if (classes != null && !classes.isEmpty()) {
        throw new IllegalArgumentException("dataset '" + name + "' holds survival data (time, event); leave out"
            + " 'classes', got " + classes);
      }
      classes = List.of();
    } else if (classes == null || classes.size() < 2) {
      throw new IllegalArgumentException("dataset '" + name + "' must declare at least two classes, got "
          + classes);
    }
    if (classes.stream().distinct().count() != classes.size()) {
      throw new IllegalArgumentException("dataset '" + name + "' declares a class twice: " + classes);
    }
    if ((format == DatasetFormat.EXPRESSION_MATRIX || format == DatasetFormat.VCF) && options.phenotypes().isEmpty()) {
      throw new IllegalArgumentException("dataset '" + name + "': format " + format.name().toLowerCase(Locale.ROOT)
          + " needs 'phenotypes', the file that gives each sample id its label");
    }
    if (format.fhir() != options.fhir().isPresent()) {
      throw new IllegalArgumentException("dataset '" + name + "': " + (format.fhir()
          ? "format " + format.name().toLowerCase(Locale.ROOT) + " needs a 'mapping' naming its features and label"
          : "'mapping' applies to formats fhir and fhir_survival only"));
    }
    if (format.fhir() && format.survival() != (options.fhir().get().label() instanceof FhirMapping.EventLabel)) {
      throw new IllegalArgumentException("dataset '" + name + "': " + (format.survival()
          ? "format fhir_survival needs an event label, mapping.label: {event: CODE}"
          : "an event label (time to event) needs format fhir_survival; format fhir takes {condition: CODE} or"
          + " {observation: CODE, above: NUMBER}"));
    }
    if (format == DatasetFormat.FHIR && classes.size() != 2) {
      throw new IllegalArgumentException("dataset '" + name + "': format fhir labels a patient absent (the first class)"
          + " or present (the second), so declare exactly two classes, e.g. [no, yes]; got " + classes);
    }
    omop(name, format, classes, options);
    classes = List.copyOf(classes);
  }

  private static void omop(String name, DatasetFormat format, List<String> classes, Options options) {
    if (format.omop() != options.omop().isPresent()) {
      throw new IllegalArgumentException("dataset '" + name + "': " + (format.omop()
          ? "format " + format.name().toLowerCase(Locale.ROOT) + " needs 'database' and a 'mapping' naming its"
          + " cohort and features"
          : "'database' applies to formats omop and omop_survival only"));
    }
    if (format == DatasetFormat.OMOP && classes.size() != 2) {
      throw new IllegalArgumentException("dataset '" + name + "': format omop labels a person 0 (the first class) or"
          + " 1 (the second), so declare exactly two classes, e.g. [no, yes]; got " + classes);
    }
    if (format.omop() && options.omop().get().cohort() instanceof OmopMapping.CohortTable table
        && format.survival() == table.riskWindowDays().isPresent()) {
      throw new IllegalArgumentException("dataset '" + name + "': " + (format.survival()
          ? "mapping.cohort.risk_window applies to format omop; omop_survival counts the days to the outcome,"
          + " censored at the end of the observation period"
          : "format omop with a cohort table needs mapping.cohort.risk_window, e.g. 365d: the days after the index"
          + " date in which entering the outcome cohort labels the person 1"));
    }
  }
}
