package org.medfed.nodeagent.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A hospital's declaration of one local dataset, as written in its agent configuration.
 *
 * @param normalisation per-feature scaling from the hospital's own training statistics
 * @param classes the class names in the order the consortium agreed on; a hospital may lack
 *     samples of some classes but must not have labels outside this list. Empty for survival
 *     data, whose labels are (time, event).
 */
public record DatasetDeclaration(String name, DatasetKind kind, DatasetFormat format, Path location,
    List<String> classes, Normalisation normalisation) {

  /** A declaration without preprocessing. */
  public DatasetDeclaration(String name, DatasetKind kind, DatasetFormat format, Path location, List<String> classes) {
    this(name, kind, format, location, classes, Normalisation.NONE);
  }

  public DatasetDeclaration {
    Objects.requireNonNull(normalisation, "normalisation");
    if (normalisation != Normalisation.NONE && format == DatasetFormat.IMAGE_FOLDERS) {
      throw new IllegalArgumentException("dataset '" + name + "': normalise applies to tables, not image folders");
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
    classes = List.copyOf(classes);
  }
}
