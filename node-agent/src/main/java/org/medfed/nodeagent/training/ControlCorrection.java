package org.medfed.nodeagent.training;

import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * SCAFFOLD's correction of a local step (Karimireddy et al. 2020, arXiv 1910.06378, Algorithm 1
 * line 10): the gradient gains c − c_i, the server's control variate minus the hospital's, a
 * constant over the round. With plain SGD the step is then y = y − η (g(y) + c − c_i), as in the paper.
 */
final class ControlCorrection extends GradientTerm {
  private final INDArray correction;

  /** @param correction c − c_i, shaped as the model's flat parameters; not copied, so not to be changed */
  ControlCorrection(INDArray correction) {
    this.correction = correction;
  }

  @Override
  INDArray term(Model model) {
    return correction.dup();
  }
}
