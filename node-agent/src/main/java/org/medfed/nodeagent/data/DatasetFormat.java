package org.medfed.nodeagent.data;

/** The on-disk layouts the agent can read. */
public enum DatasetFormat {
  /** {@code <location>/train/<class>/*.png} and {@code <location>/test/<class>/*.png}, grayscale or RGB. */
  IMAGE_FOLDERS,
  /**
   * {@code <location>/train.csv} and {@code <location>/test.csv}: a header {@code sample_id,label,<feature>...}
   * and one sample per row.
   */
  CSV_MATRIX,
  /**
   * {@code <location>/train.csv} and {@code <location>/test.csv} for time-to-event outcomes: a header
   * {@code sample_id,time,event,<feature>...}; time is non-negative, event is 1 (observed) or 0 (censored).
   */
  CSV_SURVIVAL,
  /**
   * A lab's expression matrix ({@code <location>}: a .tsv or .csv file) in either orientation, with
   * gene ids in the first column (genes by samples) or the header (samples by genes), joined by
   * sample id to a phenotype file ({@code sample_id,<label column>[,split]}).
   */
  EXPRESSION_MATRIX,
  /**
   * A CSV manifest ({@code <location>}) with {@code path,label[,split]} per image, paths relative to
   * the manifest; PNG or JPEG, all the same size.
   */
  IMAGE_MANIFEST,
  /**
   * A VCF ({@code <location>}, plain or bgzipped) read as genotype dosages (0/1/2 non-reference
   * alleles) per variant, joined by sample id to a phenotype file like {@link #EXPRESSION_MATRIX}.
   */
  VCF,
  /**
   * {@code <location>/train/<class>/<study>} and {@code <location>/test/<class>/<study>}, or a CSV
   * manifest {@code study,label[,split]}: one volume per study (NIfTI, a DICOM series folder or a
   * multi-frame DICOM file), read as {@code [1, depth, height, width]} in RAS+ order.
   */
  VOLUME_FOLDERS,
  /**
   * Volumes as {@link #VOLUME_FOLDERS}, listed in a CSV manifest {@code study,time,event[,split]}
   * for time-to-event outcomes; each study gets {@code [time, event]} as {@link #CSV_SURVIVAL}.
   */
  VOLUME_SURVIVAL,
  /**
   * A folder ({@code <location>}) of FHIR R4 records, JSON Bundles and bulk-export NDJSON, read
   * into a table of one row per patient by the dataset's {@code mapping} ({@link FhirMapping}).
   */
  FHIR,
  /**
   * FHIR records as {@link #FHIR}, labelled for time-to-event outcomes: the mapping's label is an
   * event ({@link FhirMapping.EventLabel}) and each row gets {@code [time, event]} as {@link #CSV_SURVIVAL}.
   */
  FHIR_SURVIVAL,
  /**
   * A cohort in an OMOP CDM v5.4 database, read over JDBC (PostgreSQL) with a read-only role into a
   * table of one row per person by the dataset's {@code database} and {@code mapping} ({@link OmopMapping});
   * there is no {@code location}.
   */
  OMOP,
  /** An OMOP cohort as {@link #OMOP}, labelled {@code [time, event]} as {@link #CSV_SURVIVAL}. */
  OMOP_SURVIVAL;

  /** Whether the labels are (time, event) rather than classes. */
  public boolean survival() {
    return this == CSV_SURVIVAL || this == FHIR_SURVIVAL || this == VOLUME_SURVIVAL || this == OMOP_SURVIVAL;
  }

  /** Whether the samples are volumes ({@code [1, depth, height, width]}) read with volume preprocessing. */
  public boolean volumes() {
    return this == VOLUME_FOLDERS || this == VOLUME_SURVIVAL;
  }

  /** Whether the dataset is FHIR records read through a mapping. */
  public boolean fhir() {
    return this == FHIR || this == FHIR_SURVIVAL;
  }

  /** Whether the dataset is a cohort in an OMOP database, read through a mapping. */
  public boolean omop() {
    return this == OMOP || this == OMOP_SURVIVAL;
  }
}
