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

  /**
   * Stochastic rounding: each value, clipped to [-clip, clip], becomes the level below it or the one
   * above, up with probability equal to the fraction. Each value draws 32 random bits (two values
   * per 64-bit draw), so the rounding is unbiased to within 2^-32 of a step.
   */
  public int[] quantize(float[] values, RandomGenerator random) {
    int[] out = new int[values.length];
    quantize(values, out, 0, random);
    return out;
  }

  /** As {@link #quantize(float[], RandomGenerator)}, written into {@code out} from {@code offset} on. */
  public void quantize(float[] values, int[] out, int offset, RandomGenerator random) {
    if (offset < 0 || offset + values.length > out.length) {
      throw new IllegalArgumentException(values.length + " values do not fit at offset " + offset
          + " of an output of " + out.length);
    }
    double scale = levels() / (2 * clip);
    int i = 0;
    for (; i + 1 < values.length; i += 2) {
      long bits = random.nextLong();
      out[offset + i] = level(values[i], scale, bits & 0xFFFF_FFFFL);
      out[offset + i + 1] = level(values[i + 1], scale, bits >>> 32);
    }
    if (i < values.length) {
      out[offset + i] = level(values[i], scale, random.nextLong() >>> 32);
    }
  }

  /** The level of one value: the one below, plus one when the 32 random bits fall under the fraction. */
  private int level(double value, double scale, long random32) {
    // Comparisons rather than Math.min/max/floor: this runs for every model parameter every round.
    double v = value < -clip ? -clip : value > clip ? clip : value;
    double level = (v + clip) * scale;
    long floor = (long) level;  // level >= 0, so truncation is the floor
    long threshold = (long) ((level - floor) * 0x1p32);
    return (int) (floor + (random32 < threshold ? 1 : 0));
  }

  /**
   * Turns the modular sum of {@code participants} quantized vectors back into the real sum.
   *
   * @throws IllegalArgumentException if more participants are claimed than the bit width allows
   */
  public double[] dequantizeSum(int[] sum, int participants) {
    SumDecoder decoder = sumDecoder(participants);
    double[] out = new double[sum.length];
    for (int i = 0; i < sum.length; i++) {
      out[i] = decoder.value(sum[i]);
    }
    return out;
  }

  /**
   * Reads one value of the modular sum of {@code participants} quantized vectors at a time, so a
   * caller can turn a model-sized sum into float32 means without a float64 copy of it.
   *
   * @throws IllegalArgumentException if more participants are claimed than the bit width allows
   */
  public SumDecoder sumDecoder(int participants) {
    if ((long) participants * (1L << bits) > (1L << 32)) {
      throw new IllegalArgumentException(participants + " participants overflow " + bits + "-bit quantization");
    }
    return new SumDecoder(step(), participants * clip);
  }

  /** The real sum behind one word of a modular sum: word * step - participants * clip. */
  public record SumDecoder(double step, double offset) {
    public double value(int word) {
      return Integer.toUnsignedLong(word) * step - offset;
    }
  }
}
