package org.medfed.sparktrainer;

import java.io.Serializable;
import java.util.List;
import org.medfed.nodeagent.data.DatasetKind;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.nodeagent.training.LocalTrainer;
import org.nd4j.linalg.dataset.DataSet;

/**
 * What runs on an executor for one partition. Spark ships it with each task, so it is
 * serialisable; tests wrap {@link #DL4J} to make a task fail.
 */
@FunctionalInterface
interface PartitionFit extends Serializable {

  PartitionResult fit(Recipe recipe, float[] globalParameters, byte[] share);

  /**
   * The agent's own {@link Dl4jTrainer} on the partition's share: the same network building,
   * shuffling, epochs or steps and FedProx term as a hospital that trains in one JVM, so one
   * partition gives exactly the plain trainer's result. Cancellation is the driver's: it cancels the
   * Spark job.
   */
  PartitionFit DL4J = (recipe, global, share) -> {
    DataSet train = Shares.read(share);
    // The trainer reads only the records and their shape; name, kind and class names are labels.
    LocalDataset partition = new LocalDataset("spark-partition", DatasetKind.GENOMIC, recipe.inputShape(), List.of(),
        train, new DataSet());
    LocalTrainer.Trained trained = new Dl4jTrainer().train(recipe.plan(), global, partition, CancellationToken.none());
    return new PartitionResult(trained.parameters(), trained.numSamples(),
        trained.metrics().getOrDefault("train_loss", Double.NaN), trained.steps());
  };
}
