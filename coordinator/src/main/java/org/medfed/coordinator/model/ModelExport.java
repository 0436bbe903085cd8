package org.medfed.coordinator.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Turns a global model into the standard DL4J model zip users load with {@code ModelSerializer}. */
public final class ModelExport {
  private ModelExport() {}

  public static MultiLayerNetwork toNetwork(GlobalModel model) {
    MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(model.configJson()));
    net.init();
    float[] parameters = model.parameters();
    net.setParams(Nd4j.create(parameters, new long[] {1, parameters.length}, DataType.FLOAT));
    return net;
  }

  public static byte[] toDl4jZip(GlobalModel model) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ModelSerializer.writeModel(toNetwork(model), out, false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serialise the model", e);
    }
    return out.toByteArray();
  }
}
