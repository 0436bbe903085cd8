package org.medfed.nodeagent.training;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A term added to every local step's gradient, before DL4J's updater transforms it: the updater only
 * ever sees the total gradient, as if the term were part of the loss.
 */
abstract class GradientTerm extends BaseTrainingListener {

  /** The term for one example at the model's current weights; the caller's to scale. */
  abstract INDArray term(Model model);

  @Override
  public final void onGradientCalculation(Model model) {
    // At this hook DL4J's loss gradient is still summed over the minibatch: the updater divides it by
    // the minibatch size afterwards (when miniBatch is on, the default). Scaling by that size leaves
    // exactly the term after the division, as for the averaged data loss.
    // Dl4jTrainerTest checks this against hand-computed SGD steps.
    double perExampleScale = model.conf().isMiniBatch() ? model.batchSize() : 1;
    INDArray gradient = model.gradient().gradient();
    gradient.addi(term(model).reshape(gradient.shape()).muli(perExampleScale));
  }
}
