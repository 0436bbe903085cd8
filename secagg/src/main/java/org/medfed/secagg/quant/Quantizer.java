package org.medfed.secagg.quant;

import java.util.random.RandomGenerator;

/**
 * Stochastic quantization of real vectors to b-bit unsigned integers, with b chosen so that the
 * sum of up to {@code maxParticipants} quantized vectors cannot wrap modulo 2^32:
 * b = 32 - ceil(log2 maxParticipants) - 1. Values are clipped to [-clip, clip] first.
 * Stochastic rounding makes each quantized value an unbiased estimate of the clipped input.
 *
 * @param clip clipping range c: inputs outside [-c, c] are clipped
 * @param bits quantization bit width b
 */
public record Quantizer(double clip, int bits) {
  public Quantizer {
    if (!(clip > 0) || Double.isInfinite(clip)) {
      throw new IllegalArgumentException("clip range must be positive and finite, got " + clip);
    }
    if (bits < 2 || bits > 31) {
      throw new IllegalArgumentException("bits must be in 2..31, got " + bits);
    }
  }

  /** The widest quantization whose sum over {@code maxParticipants} vectors fits in 32 bits without wrapping. */
  public static Quantizer forParticipants(double clip, int maxParticipants) {
    if (maxParticipants < 1) {
      throw new IllegalArgumentException("maxParticipants must be >= 1, got " + maxParticipants);
    }
    int headroom = 32 - Integer.numberOfLeadingZeros(maxParticipants - 1);  // ceil(log2 n)
    int bits = 32 - headroom - 1;
    if (bits < 8) {
      throw new IllegalArgumentException(maxParticipants + " participants leave only " + bits
          + " bits per value; use fewer participants per aggregate");
    }
    return new Quantizer(clip, bits);
  }

  private double levels() {
    return (1L << bits) - 1;
  }

  /** Largest quantization error per coordinate of one client's value: one quantization step. */
  public double step() {
    return 2 * clip / levels();
  }

  public int[] quantize(float[] values, RandomGenerator random) {
    int[] out = new int[values.length];
    double scale = levels() / (2 * clip);
    for (int i = 0; i < values.length; i++) {
      double v = Math.max(-clip, Math.min(clip, values[i]));
      double level = (v + clip) * scale;
      double floor = Math.floor(level);
      out[i] = (int) (floor + (random.nextDouble() < level - floor ? 1 : 0));
    }
    return out;
  }

  /**
   * Turns the modular sum of {@code participants} quantized vectors back into the real sum.
   *
   * @throws IllegalArgumentException if more participants are claimed than the bit width allows
   */
  public double[] dequantizeSum(int[] sum, int participants) {
    if ((long) participants * (1L << bits) > (1L << 32)) {
      throw new IllegalArgumentException(participants + " participants overflow " + bits + "-bit quantization");
    }
    double[] out = new double[sum.length];
    for (int i = 0; i < sum.length; i++) {
      out[i] = Integer.toUnsignedLong(sum[i]) * step() - participants * clip;
    }
    return out;
  }
}
