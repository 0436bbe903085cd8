package org.medfed.coordinator.job;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which round's model a job keeps, and when it stops early. A round's global model is judged by
 * one of its evaluation metrics (the hospitals' test splits); the best round is the one whose value
 * no later round has beaten by more than {@code minDelta}, so a tie keeps the earlier round. With
 * {@code patience} above 0 the job ends once that many rounds in a row have not beaten it.
 *
 * <p>Everything is derived from the stored rounds, so a resumed job knows its best round and its
 * patience without state of its own.
 *
 * @param metric a round metric such as {@code eval_accuracy}, {@code eval_c_index} or {@code eval_loss}
 * @param maximize whether larger is better (false for losses)
 * @param patience rounds without improvement after which the job stops; 0 never stops early
 */
public record ModelSelection(String metric, boolean maximize, int patience, double minDelta) {
  public ModelSelection {
    JobSchema.SELECTION_METRIC.check(metric);
    JobSchema.SELECTION_PATIENCE.check(patience);
    JobSchema.SELECTION_MIN_DELTA.check(minDelta);
  }

  /** Accuracy for classifiers, the C-index for survival models; larger is better; no early stop. */
  public static ModelSelection defaultFor(ModelSpec model) {
    return new ModelSelection(model.survival() ? "eval_c_index" : "eval_accuracy", true, 0, 0);
  }

  /** A loss is minimised, anything else maximised, unless the job says otherwise. */
  public static boolean maximizedByDefault(String metric) {
    return !metric.toLowerCase(Locale.ROOT).endsWith("loss");
  }

  /** The round to keep so far: empty until a round reports the metric. */
  public Optional<RoundRecord> best(List<RoundRecord> rounds) {
    RoundRecord best = null;
    for (RoundRecord round : rounds) {
      Double value = round.metrics().get(metric);
      if (value == null || !Double.isFinite(value)) {
        continue;
      }
      if (best == null || improves(value, best.metrics().get(metric))) {
        best = round;
      }
    }
    return Optional.ofNullable(best);
  }

  /** Why the job should stop after its last round, if patience has run out. */
  public Optional<String> stopReason(List<RoundRecord> rounds) {
    if (patience == 0 || rounds.isEmpty()) {
      return Optional.empty();
    }
    int last = rounds.get(rounds.size() - 1).round();
    return best(rounds).filter(best -> last - best.round() >= patience).map(best -> "stopped early after round "
        + last + ": " + metric + " has not " + (maximize ? "risen" : "fallen") + " by more than " + minDelta
        + " for " + (last - best.round()) + " rounds (patience " + patience + "); keeping round " + best.round()
        + " (" + describe(best) + ")");
  }

  /** "eval_accuracy 0.9312" for messages. */
  public String describe(RoundRecord round) {
    return metric + " " + String.format(Locale.ROOT, "%.4f", round.metrics().get(metric));
  }

  private boolean improves(double value, double best) {
    return maximize ? value > best + minDelta : value < best - minDelta;
  }
}
