package org.medfed.models.survival;

/**
 * Harrell's concordance index with lifelines' conventions ({@code concordance_index(T, -s, E)}):
 * a pair is comparable when the patient with the shorter time had an event (at equal times, when
 * exactly one of the two had it); it is concordant when that patient has the higher risk score;
 * tied scores count one half.
 */
public final class ConcordanceIndex {
  private ConcordanceIndex() {}

  /** @return the C-index, or NaN when no pair is comparable (for example, no events) */
  public static double of(double[] time, boolean[] event, double[] risk) {
    if (time.length != event.length || time.length != risk.length) {
      throw new IllegalArgumentException("time, event and risk must have the same length");
    }
    double concordant = 0;
    long comparable = 0;
    for (int i = 0; i < time.length; i++) {
      for (int j = i + 1; j < time.length; j++) {
        int first;
        int second;
        if (time[i] < time[j]) {
          first = i;
          second = j;
        } else if (time[j] < time[i]) {
          first = j;
          second = i;
        } else if (event[i] != event[j]) {
          first = event[i] ? i : j;
          second = event[i] ? j : i;
        } else {
          continue;
        }
        if (!event[first]) {
          continue;
        }
        comparable++;
        if (risk[first] > risk[second]) {
          concordant += 1;
        } else if (risk[first] == risk[second]) {
          concordant += 0.5;
        }
      }
    }
    return comparable == 0 ? Double.NaN : concordant / comparable;
  }
}
