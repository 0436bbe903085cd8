package org.medfed.models.survival;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * The negative Cox partial log-likelihood of a mini-batch, as FLamby's Fed-TCGA-BRCA defines it
 * (Andreux et al. 2020): sort the batch by time, longest first; each patient with an event
 * contributes {@code log(sum of exp(s_j) over its risk set) - s_i}, where the risk set is the
 * patient and everyone sorted before it (ties broken by sort order); censored patients contribute
 * 0; the mean is over all patients. Labels are {@code [time, event]} per row; the output is one
 * risk score per row (identity activation: higher means higher risk).
 */
public final class CoxPartialLikelihood implements ILossFunction {
  private static final long serialVersionUID = 1L;

  @Override
  public double computeScore(INDArray labels, INDArray preOutput, IActivation activation, INDArray mask,
      boolean average) {
    double sum = computeScoreArray(labels, preOutput, activation, mask).sumNumber().doubleValue();
    return average ? sum / preOutput.size(0) : sum;
  }

  @Override
  public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activation, INDArray mask) {
    Batch batch = new Batch(labels, activation.getActivation(preOutput.dup(), false));
    double[] scores = new double[batch.n];
    double logRisk = Double.NEGATIVE_INFINITY;
    for (int rank = 0; rank < batch.n; rank++) {
      int i = batch.order[rank];
      logRisk = logAddExp(logRisk, batch.score[i]);
      if (batch.event[i]) {
        scores[i] = logRisk - batch.score[i];
      }
    }
    return Nd4j.createFromArray(scores).reshape(batch.n, 1).castTo(preOutput.dataType());
  }

  /**
   * d(sum of per-patient losses)/d(score_k) = sum over event patients i whose risk set holds k of
   * exp(s_k) / (risk-set sum of i), minus event_k. DL4J divides by the batch size itself.
   */
  @Override
  public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activation, INDArray mask) {
    INDArray output = activation.getActivation(preOutput.dup(), true);
    Batch batch = new Batch(labels, output);
    double[] logRiskAtRank = new double[batch.n];
    double logRisk = Double.NEGATIVE_INFINITY;
    for (int rank = 0; rank < batch.n; rank++) {
      logRisk = logAddExp(logRisk, batch.score[batch.order[rank]]);
      logRiskAtRank[rank] = logRisk;
    }
    // Walking from the shortest time back, accumulate sum over later-ranked events of 1 / risk sum.
    double[] gradient = new double[batch.n];
    double inverseRiskSums = 0;
    for (int rank = batch.n - 1; rank >= 0; rank--) {
      int k = batch.order[rank];
      if (batch.event[k]) {
        inverseRiskSums += Math.exp(-logRiskAtRank[rank]);
      }
      gradient[k] = Math.exp(batch.score[k]) * inverseRiskSums - (batch.event[k] ? 1 : 0);
    }
    INDArray dLdOutput = Nd4j.createFromArray(gradient).reshape(batch.n, 1).castTo(preOutput.dataType());
    return activation.backprop(preOutput.dup(), dLdOutput).getFirst();
  }

  @Override
  public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activation,
      INDArray mask, boolean average) {
    return new Pair<>(computeScore(labels, preOutput, activation, mask, average),
        computeGradient(labels, preOutput, activation, mask));
  }

  @Override
  public String name() {
    return "CoxPartialLikelihood";
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof CoxPartialLikelihood;
  }

  @Override
  public int hashCode() {
    return CoxPartialLikelihood.class.hashCode();
  }

  @Override
  public String toString() {
    return name();
  }

  private static double logAddExp(double a, double b) {
    if (a == Double.NEGATIVE_INFINITY) {
      return b;
    }
    double max = Math.max(a, b);
    return max + Math.log(Math.exp(a - max) + Math.exp(b - max));
  }

  /** A batch's scores, times and events, and its order by time, longest first (stable). */
  private static final class Batch {
    final int n;
    final double[] score;
    final boolean[] event;
    final int[] order;

    Batch(INDArray labels, INDArray output) {
      if (labels.rank() != 2 || labels.size(1) != 2) {
        throw new IllegalArgumentException("Cox labels must be [time, event] per row, got shape "
            + Arrays.toString(labels.shape()));
      }
      if (output.size(1) != 1) {
        throw new IllegalArgumentException("a Cox model outputs one risk score per row, got shape "
            + Arrays.toString(output.shape()));
      }
      n = (int) output.size(0);
      score = output.castTo(DataType.DOUBLE).reshape(n).toDoubleVector();
      double[] time = labels.getColumn(0).castTo(DataType.DOUBLE).toDoubleVector();
      double[] events = labels.getColumn(1).castTo(DataType.DOUBLE).toDoubleVector();
      event = new boolean[n];
      for (int i = 0; i < n; i++) {
        event[i] = events[i] > 0.5;
      }
      order = IntStream.range(0, n).boxed().sorted(Comparator.comparingDouble((Integer i) -> -time[i]))
          .mapToInt(Integer::intValue).toArray();
    }
  }
}
