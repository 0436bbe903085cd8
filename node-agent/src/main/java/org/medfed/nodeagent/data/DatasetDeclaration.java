package org.medfed.nodeagent.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A hospital's declaration of one local dataset, as written in its agent configuration.
 *
 * @param classes the class names in the order the consortium agreed on; a hospital may lack
 *     samples of some classes but must not have labels outside this list. Empty for survival
 *     data, whose labels are (time, event).
 */
public record DatasetDeclaration(String name, DatasetKind kind, DatasetFormat format, Path location,
    List<String> classes) {
  public DatasetDeclaration {
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
