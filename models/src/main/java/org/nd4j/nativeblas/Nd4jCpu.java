package org.nd4j.nativeblas;

import org.medfed.models.cpu.OneDnn;

/**
 * A shim for DL4J 1.0.0-M2.1's oneDNN layer helpers, which find out whether ND4J was built with
 * oneDNN by reflection on {@code org.nd4j.nativeblas.Nd4jCpu$Environment.getInstance().isUseMKLDNN()}.
 * ND4J M2.1 moved that class to {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu} and renamed
 * the flag {@code isUseONEDNN}; the helper swallows the {@code ClassNotFoundException} and falls back
 * to DL4J's own im2col convolution, about 5× slower on the small CNN. This class answers the old
 * question from the new place. It is named by reflection only; see {@link OneDnn}, which enables the helpers and checks that they are in use.
 */
public final class Nd4jCpu {
  private Nd4jCpu() {}

  /** The single method {@code BaseMKLDNNHelper.mklDnnEnabled()} calls, forwarded to ND4J M2.1's name for it. */
  public static final class Environment {
    private static final Environment INSTANCE = new Environment();

    private Environment() {}

    public static Environment getInstance() {
      return INSTANCE;
    }

    /**
     * Whether libnd4j runs its oneDNN kernels: only a {@code -onednn} build has them, and ND4J's own
     * flag reads true on the plain build as well.
     */
    public boolean isUseMKLDNN() {
      return OneDnn.inLibrary()
          && org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().isUseONEDNN();
    }
  }
}
