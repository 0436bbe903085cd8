package org.medfed.nodeagent.training;

/**
 * The hospital's half of SCAFFOLD (Karimireddy et al. 2020, arXiv 1910.06378, Algorithm 1, option
 * II), as pure arithmetic: the correction each local step's gradient gains, and the control variate
 * after K local SGD steps of size η from the global weights x to the local weights y:
 *
 * <pre>
 * c_i+ = c_i − c + (x − y) / (K·η)
 * Δc_i = c_i+ − c_i
 * </pre>
 *
 * With plain SGD, (x − y) / (K·η) is the mean corrected gradient, so c_i+ is the mean of the round's
 * raw gradients at this hospital. Control variates are kept in double precision: they carry over
 * every round of a job.
 */
public final class ScaffoldClient {
  private ScaffoldClient() {}

  /** What one round leaves: the hospital's next control variate and its change, which it sends. */
  public record Next(double[] clientControl, float[] controlDelta) {
    public Next {
      clientControl = clientControl.clone();
      controlDelta = controlDelta.clone();
    }

    @Override
    public double[] clientControl() {
      return clientControl.clone();
    }

    @Override
    public float[] controlDelta() {
      return controlDelta.clone();
    }
  }

  /** c − c_i, added to every local step's gradient. */
  public static float[] correction(float[] serverControl, double[] clientControl) {
    requireSameLength(serverControl.length, clientControl.length, "the client control variate");
    float[] correction = new float[serverControl.length];
    for (int i = 0; i < correction.length; i++) {
      correction[i] = (float) (serverControl[i] - clientControl[i]);
    }
    return correction;
  }

  /**
   * Option II's update after {@code steps} local steps of size {@code learningRate}.
   *
   * @throws IllegalArgumentException when no step was taken (an empty train split): the update divides by K
   */
  public static Next next(float[] global, float[] local, float[] serverControl, double[] clientControl, long steps,
      double learningRate) {
    requireSameLength(global.length, local.length, "the trained weights");
    requireSameLength(global.length, serverControl.length, "the server control variate");
    requireSameLength(global.length, clientControl.length, "the client control variate");
    if (steps < 1 || !(learningRate > 0)) {
      throw new IllegalArgumentException("SCAFFOLD's control variate needs K >= 1 local steps and a learning rate"
          + " > 0, got K = " + steps + ", lr = " + learningRate);
    }
    double scale = 1.0 / (steps * learningRate);
    double[] next = new double[global.length];
    float[] delta = new float[global.length];
    for (int i = 0; i < next.length; i++) {
      next[i] = clientControl[i] - serverControl[i] + ((double) global[i] - local[i]) * scale;
      delta[i] = (float) (next[i] - clientControl[i]);
    }
    return new Next(next, delta);
  }

  private static void requireSameLength(int expected, int actual, String what) {
    if (actual != expected) {
      throw new IllegalArgumentException(what + " has " + actual + " values but the model has " + expected);
    }
  }
}
