package org.medfed.secagg.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class QuantizerTest {

  @Test
  void forParticipants_leavesHeadroomSoTheSumCannotWrap() {
    assertEquals(31 - 7, Quantizer.forParticipants(8, 100).bits());   // ceil(log2 100) = 7
    assertEquals(31 - 2, Quantizer.forParticipants(8, 4).bits());
    assertEquals(31, Quantizer.forParticipants(8, 1).bits());
  }

  @Test
  void sumOfManyMaximalValues_doesNotWrapAndDequantizesExactly() {
    int n = 100;
    Quantizer q = Quantizer.forParticipants(8, n);
    int[] sum = new int[1];
    for (int i = 0; i < n; i++) {
      sum[0] += q.quantize(new float[] {8f}, new Random(i))[0];
    }

    assertEquals(800.0, q.dequantizeSum(sum, n)[0], 1e-6);
  }

  @Test
  void dequantizedSum_isWithinOneStepPerParticipantOfTheTrueSum() {
    int n = 10;
    Quantizer q = Quantizer.forParticipants(1, n);
    Random values = new Random(4);
    int[] sum = new int[1000];
    double[] truth = new double[1000];
    for (int c = 0; c < n; c++) {
      float[] x = new float[1000];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (values.nextGaussian() * 0.3);
        truth[i] += Math.max(-1, Math.min(1, x[i]));
      }
      int[] quantized = q.quantize(x, new Random(c));
      for (int i = 0; i < sum.length; i++) {
        sum[i] += quantized[i];
      }
    }
    double[] recovered = q.dequantizeSum(sum, n);
    for (int i = 0; i < truth.length; i++) {
      assertTrue(Math.abs(recovered[i] - truth[i]) <= n * q.step() + 1e-9, "coordinate " + i);
    }
  }

  @Test
  void stochasticRounding_isUnbiased() {
    Quantizer q = new Quantizer(1, 8);
    double level = 100.3;  // between levels 100 and 101
    float value = (float) (level * q.step() - 1);
    float[] values = new float[100_001];  // odd: the last value takes the single-draw path
    Arrays.fill(values, value);
    double exact = (value + 1) / q.step();

    double mean = Arrays.stream(q.quantize(values, new SplittableRandom(7))).average().orElseThrow();

    // Bernoulli(0.3) over 100,001 draws: standard error 0.0015; allow five of them.
    assertEquals(exact, mean, 0.0075);
  }

  @Test
  void quantizingIntoAnOffset_fillsOnlyThatRange() {
    Quantizer q = new Quantizer(1, 8);
    int[] out = new int[5];

    q.quantize(new float[] {-1f, 1f, -1f}, out, 1, new SplittableRandom(1));

    assertArrayEquals(new int[] {0, 0, 255, 0, 0}, out);
    assertThrows(IllegalArgumentException.class, () -> q.quantize(new float[3], out, 3, new SplittableRandom(1)));
  }

  @Test
  void sumDecoder_readsEachWordAsDequantizeSumDoes() {
    Quantizer q = Quantizer.forParticipants(0.5, 7);
    int[] sum = {0, 1, 12345, Integer.MAX_VALUE, -1, Integer.MIN_VALUE};

    double[] whole = q.dequantizeSum(sum, 7);
    Quantizer.SumDecoder decoder = q.sumDecoder(7);

    for (int i = 0; i < sum.length; i++) {
      assertEquals(whole[i], decoder.value(sum[i]), 0.0, "word " + sum[i]);
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Quantizer(1, 30).sumDecoder(5));
    assertEquals("5 participants overflow 30-bit quantization", e.getMessage());
  }

  @Test
  void tooManyParticipantsForTheBits_isRefused() {
    Quantizer q = new Quantizer(1, 30);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.dequantizeSum(new int[1], 5));

    assertEquals("5 participants overflow 30-bit quantization", e.getMessage());
  }
}
