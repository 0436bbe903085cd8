package org.medfed.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TensorsTest {
  private static final int PIECE_FLOATS = Tensors.PIECE_BYTES / Float.BYTES;

  private static float[] values(int count) {
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = i % 7 == 0 ? -i : i * 0.5f;
    }
    return values;
  }

  @ParameterizedTest(name = "{0} floats")
  @ValueSource(ints = {0, 1, PIECE_FLOATS - 1, PIECE_FLOATS, PIECE_FLOATS + 1, 3 * PIECE_FLOATS + 5})
  void encodeInPieces_givesTheBytesOfToBytes_inOrder_andSha256TheirDigest(int count) throws Exception {
    float[] values = values(count);
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    Tensors.encodeInPieces(FloatBuffer.wrap(values), piece -> {
      byte[] bytes = new byte[piece.remaining()];
      piece.get(bytes);
      out.write(bytes);
    });

    assertArrayEquals(Tensors.toBytes(values), out.toByteArray());
    assertArrayEquals(Digests.sha256(Tensors.toBytes(values)), Tensors.sha256(FloatBuffer.wrap(values)));
  }

  @ParameterizedTest(name = "from {0}")
  @ValueSource(ints = {1, PIECE_FLOATS + 3})
  void aViewsRemainingFloatsAreEncoded_andTheViewIsLeftAsItWas(int from) {
    float[] values = values(2 * PIECE_FLOATS + 11);
    FloatBuffer view = FloatBuffer.wrap(values).position(from).asReadOnlyBuffer();

    byte[] digest = Tensors.sha256(view);

    assertArrayEquals(Digests.sha256(Tensors.toBytes(Arrays.copyOfRange(values, from, values.length))), digest);
    assertEquals(from, view.position());
  }
}
