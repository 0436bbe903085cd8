package org.medfed.nodeagent.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.medfed.models.archive.ModelInfo;
import org.nd4j.evaluation.classification.Evaluation;

/**
 * A downloaded model's figures on a hospital's own test split, printed for people ({@link #text()})
 * and written as JSON for machines (its record components, snake_case). Lists are copied.
 */
sealed interface EvaluationReport {

  /** What was evaluated on what: the model's job and round, the hospital's dataset and its test samples. */
  record Source(String jobId, String jobName, int round, String dataset, long samples) {
    static Source of(ModelInfo info, String dataset, long samples) {
      return new Source(info.jobId(), info.jobName(), info.round(), dataset, samples);
    }

    String text() {
      return "model:    " + jobName + " (" + jobId + "), round " + round + "\n"
          + "dataset:  '" + dataset + "', test split, " + samples + " samples\n";
    }
  }

  Source source();

  String text();

  /** One class's figures; support is how many test samples truly belong to it. */
  record ClassFigures(String name, double precision, double recall, double f1, int support) {}

  /** @param confusion counts by actual class (rows) and predicted class (columns), in {@code classes} order */
  record Classifier(Source source, double accuracy, double loss, List<ClassFigures> classes, int[][] confusion)
      implements EvaluationReport {
    public Classifier {
      classes = List.copyOf(classes);
      confusion = copy(confusion);
    }

    static Classifier of(Source source, Evaluation evaluation, double loss, List<String> classNames) {
      int k = classNames.size();
      int[][] confusion = new int[k][k];
      List<ClassFigures> figures = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        figures.add(new ClassFigures(classNames.get(i), evaluation.precision(i), evaluation.recall(i),
            evaluation.f1(i), evaluation.classCount(i)));
        for (int j = 0; j < k; j++) {
          confusion[i][j] = evaluation.getConfusionMatrix().getCount(i, j);
        }
      }
      return new Classifier(source, evaluation.accuracy(), loss, figures, confusion);
    }

    @Override
    public int[][] confusion() {
      return copy(confusion);
    }

    private static int[][] copy(int[][] counts) {
      int[][] copy = new int[counts.length][];
      for (int i = 0; i < counts.length; i++) {
        copy[i] = counts[i].clone();
      }
      return copy;
    }

    @Override
    public String text() {
      int width = Math.max(12, classes.stream().mapToInt(c -> c.name().length()).max().orElse(0) + 2);
      StringBuilder out = new StringBuilder(source.text());
      out.append(String.format(Locale.ROOT, "accuracy: %.4f   loss: %.4f%n%n", accuracy, loss));
      out.append(String.format(Locale.ROOT, "%-" + width + "s %9s %9s %9s %9s%n", "class", "precision", "recall",
          "f1", "support"));
      for (ClassFigures c : classes) {
        out.append(String.format(Locale.ROOT, "%-" + width + "s %9.4f %9.4f %9.4f %9d%n", c.name(), c.precision(),
            c.recall(), c.f1(), c.support()));
      }
      out.append("\nconfusion matrix (rows: actual class, columns: predicted class)\n");
      out.append(String.format(Locale.ROOT, "%-" + width + "s", ""));
      classes.forEach(c -> out.append(String.format(Locale.ROOT, " %" + width + "s", c.name())));
      out.append('\n');
      for (int i = 0; i < classes.size(); i++) {
        out.append(String.format(Locale.ROOT, "%-" + width + "s", classes.get(i).name()));
        for (int count : confusion[i]) {
          out.append(String.format(Locale.ROOT, " %" + width + "d", count));
        }
        out.append('\n');
      }
      return out.toString();
    }
  }

  /** A Cox model's concordance index (Harrell's C; 0.5 is chance) and mean negative partial log-likelihood. */
  record Survival(Source source, double cIndex, double loss) implements EvaluationReport {
    @Override
    public String text() {
      return source.text() + String.format(Locale.ROOT, "c-index:  %.4f   loss: %.4f%n", cIndex, loss);
    }
  }
}
