package org.medfed.nodeagent.training;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * FedProx's proximal term (Li et al. 2020, arXiv 1812.06127): local training minimises the data loss
 * plus mu/2 * ||w - w_global||^2, so each step's gradient gains mu * (w - w_global). It is added to the
 * raw gradient before DL4J's updater transforms it, so the term is exact for every optimiser the
 * model configuration names (SGD, Nesterov, Adam…): the updater only ever sees the total gradient.
 * The score is left alone: the network's score stays the data loss.
 */
final class ProximalTerm extends BaseTrainingListener {
  private final INDArray globalParameters;
  private final double mu;

  /** @param globalParameters the round's starting weights, w_global; not copied, so not to be changed */
  ProximalTerm(INDArray globalParameters, double mu) {
    this.globalParameters = globalParameters;
    this.mu = mu;
  }

  @Override
  public void onGradientCalculation(Model model) {
    // At this hook DL4J's loss gradient is still summed over the minibatch: the updater divides it by
    // the minibatch size afterwards (when miniBatch is on, the default). Scaling by that size leaves
    // exactly mu * (w - w_global) after the division, as for the averaged data loss.
    // Dl4jTrainerTest checks this against a hand-computed SGD step.
    double perExampleScale = model.conf().isMiniBatch() ? model.batchSize() : 1;
    INDArray gradient = model.gradient().gradient();
    gradient.addi(model.params().sub(globalParameters).muli(mu * perExampleScale));
  }
}
