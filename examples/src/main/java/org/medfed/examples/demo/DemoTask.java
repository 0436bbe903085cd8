package org.medfed.examples.demo;

import org.medfed.examples.synthetic.ExpressionGenerator;
import org.medfed.examples.synthetic.ScanGenerator;
import org.medfed.examples.synthetic.SyntheticConsortium;
import org.medfed.examples.synthetic.VolumeGenerator;

/** One of the demo's federated jobs and the job document that launches it. */
public record DemoTask(String name, String dataset, String jobDocument, int rounds, int localEpochs) {

  public static DemoTask imaging(int rounds, int hospitals, long seed) {
    return new DemoTask("imaging", SyntheticConsortium.IMAGING_DATASET, """
        name: imaging-demo
        dataset: %s
        model: {architecture: small-cnn, hidden: [64]}
        input_shape: [1, %d, %d]
        num_classes: %d
        rounds: %d
        min_nodes: %d
        local_epochs: 1
        batch_size: 16
        learning_rate: 0.002
        optimizer: adam
        strategy: {name: fedavgm, server_momentum: 0.8}
        seed: %d
        deadlines: {selection: 120s, training: 120s, evaluation: 60s}
        """.formatted(SyntheticConsortium.IMAGING_DATASET, SyntheticConsortium.IMAGE_SIZE,
        SyntheticConsortium.IMAGE_SIZE, ScanGenerator.CLASSES.size(), rounds, hospitals, seed), rounds, 1);
  }

  static DemoTask genomic(int rounds, int hospitals, long seed) {
    return new DemoTask("genomic", SyntheticConsortium.GENOMIC_DATASET, """
        name: genomic-demo
        dataset: %s
        model: {architecture: mlp, hidden: [64]}
        input_shape: [%d]
        num_classes: %d
        rounds: %d
        min_nodes: %d
        local_epochs: 1
        batch_size: 32
        learning_rate: 0.001
        seed: %d
        deadlines: {selection: 120s, training: 60s, evaluation: 60s}
        """.formatted(SyntheticConsortium.GENOMIC_DATASET, SyntheticConsortium.GENES,
        ExpressionGenerator.CLASSES.size(), rounds, hospitals, seed), rounds, 1);
  }

  /** CT volumes held as DICOM series, NIfTI files and multi-frame DICOM, one format per hospital. */
  static DemoTask volumes(int rounds, int hospitals, long seed) {
    return new DemoTask("volumes", SyntheticConsortium.VOLUME_DATASET, """
        name: volumes-demo
        dataset: %s
        model: {architecture: small-cnn3d, hidden: [32]}
        input_shape: [1, %d, %d, %d]
        num_classes: %d
        rounds: %d
        min_nodes: %d
        local_epochs: 2
        batch_size: 4
        learning_rate: 0.003
        optimizer: adam
        seed: %d
        deadlines: {selection: 120s, training: 180s, evaluation: 60s}
        """.formatted(SyntheticConsortium.VOLUME_DATASET, SyntheticConsortium.VOLUME_SIZE,
        SyntheticConsortium.VOLUME_SIZE, SyntheticConsortium.VOLUME_SIZE, VolumeGenerator.CLASSES.size(), rounds,
        hospitals, seed), rounds, 2);
  }
}
