package org.medfed.nodeagent.training;

import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * FedProx's proximal term (Li et al. 2020, arXiv 1812.06127): local training minimises the data loss
 * plus mu/2 * ||w - w_global||^2, so each step's gradient gains mu * (w - w_global). Being added to the
 * raw gradient, the term is exact for every optimiser the model configuration names (SGD, Nesterov,
 * Adam…). The score is left alone: the network's score stays the data loss.
 */
final class ProximalTerm extends GradientTerm {
  private final INDArray globalParameters;
  private final double mu;

  /** @param globalParameters the round's starting weights, w_global; not copied, so not to be changed */
  ProximalTerm(INDArray globalParameters, double mu) {
    this.globalParameters = globalParameters;
    this.mu = mu;
  }

  @Override
  INDArray term(Model model) {
    return model.params().sub(globalParameters).muli(mu);
  }
}
