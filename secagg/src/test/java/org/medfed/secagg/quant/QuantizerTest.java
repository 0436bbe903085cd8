package org.medfed.secagg.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
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
  void tooManyParticipantsForTheBits_isRefused() {
    Quantizer q = new Quantizer(1, 30);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.dequantizeSum(new int[1], 5));

    assertEquals("5 participants overflow 30-bit quantization", e.getMessage());
  }
}
