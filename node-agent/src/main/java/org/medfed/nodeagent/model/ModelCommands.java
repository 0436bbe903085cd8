package org.medfed.nodeagent.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.medfed.models.archive.ModelArchive;
import org.medfed.models.archive.ModelArchiveException;
import org.medfed.models.archive.ModelInfo;
import org.medfed.nodeagent.data.ConsortiumScaling;
import org.medfed.nodeagent.data.DataLoadException;
import org.medfed.nodeagent.data.DatasetDeclaration;
import org.medfed.nodeagent.data.DatasetLoaders;
import org.medfed.nodeagent.data.FeatureAlignment;
import org.medfed.nodeagent.data.LocalDataset;
import org.medfed.nodeagent.data.UnlabelledSamples;
import org.medfed.nodeagent.session.AgentConfig;
import org.medfed.nodeagent.session.AgentConfigLoader;
import org.medfed.nodeagent.training.Dl4jTrainer;
import org.medfed.wire.FeatureStatistics;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * A hospital's commands for a model downloaded with {@code medfed download}: evaluate it on the
 * hospital's own test split, or predict for new, unlabelled cases. Both read data through the
 * agent's own dataset declaration, so the model sees inputs exactly as in training. Exit codes:
 * 0 done, 2 bad input (one line on stderr; a stack trace with {@code --verbose}).
 */
public final class ModelCommands {
  private static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(SerializationFeature.INDENT_OUTPUT);

  private ModelCommands() {}

  /** An input the user can fix: printed as one line, exit code 2. */
  static final class UsageProblem extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageProblem(String message) {
      super(message);
    }
  }

  /** The options both commands share, and the model and declaration they name. */
  static final class Target {
    @Option(names = {"-c", "--config"}, required = true, description = "The agent's configuration file (agent.yaml).")
    Path config;

    @Option(names = "--model", required = true, description = "The model zip from `medfed download`.")
    Path model;

    @Option(names = "--dataset", required = true, description = "The declared dataset whose loader settings apply.")
    String dataset;

    @Option(names = "--verbose", description = "Print stack traces with errors.")
    boolean verbose;

    /** Runs a command body; bad input becomes one line on stderr and exit code 2. */
    int run(String command, Callable<Integer> body) throws Exception {
      try {
        return body.call();
      } catch (UsageProblem | ModelArchiveException | DataLoadException | AgentConfigLoader.ConfigException
          | IOException e) {
        System.err.println("medfed-agent " + command + ": " + e.getMessage());
        if (verbose) {
          e.printStackTrace();
        }
        return 2;
      }
    }

    /** The model, the named declaration, and a check that the two can work together. */
    Resolved resolve() {
      AgentConfig agent = AgentConfigLoader.load(config);
      ModelArchive.Opened opened = ModelArchive.read(model);
      DatasetDeclaration declaration = agent.datasets().stream().filter(d -> d.name().equals(dataset)).findFirst()
          .orElseThrow(() -> new UsageProblem(config + " declares no dataset named '" + dataset + "'; it declares "
              + agent.datasets().stream().map(DatasetDeclaration::name).sorted().toList()));
      ModelInfo info = opened.info();
      if (info.survival() != declaration.format().survival()) {
        throw new UsageProblem(info.survival()
            ? "the model is a survival (cox) model but dataset '" + dataset + "' holds classes; pick a csv_survival"
                + " dataset"
            : "the model is a classifier but dataset '" + dataset + "' holds survival data; pick a dataset with"
                + " classes");
      }
      if (!info.survival() && declaration.classes().size() != info.numClasses()) {
        throw new UsageProblem("the model has " + info.numClasses() + " classes but dataset '" + dataset
            + "' declares " + declaration.classes().size() + ": " + declaration.classes());
      }
      return new Resolved(opened.network(), info, declaration);
    }
  }

  record Resolved(MultiLayerNetwork network, ModelInfo info, DatasetDeclaration declaration) {
    /** The consortium's z-score the model was trained behind, applied after the dataset's own normalise. */
    Optional<FeatureStatistics.Scaling> scaling() {
      return info.scaled() ? Optional.of(new FeatureStatistics.Scaling(info.featureMean(), info.featureScale()))
          : Optional.empty();
    }

    /** Fails unless inputs of this shape fit the model. */
    void checkShape(long[] shape) {
      if (!Arrays.equals(shape, info.inputShape())) {
        throw new UsageProblem("the model expects input shape " + Arrays.toString(info.inputShape())
            + " but dataset '" + declaration.name() + "' gives " + Arrays.toString(shape)
            + (shape.length == 3 ? "; declare resize: [HEIGHT, WIDTH] and channels: gray|rgb to match"
                : "; use the dataset the model was trained on (" + info.dataset() + ")"));
      }
    }
  }

  @Command(name = "evaluate", mixinStandardHelpOptions = true,
      description = "Evaluate a downloaded model on this hospital's own test split.")
  public static final class Evaluate implements Callable<Integer> {
    @Mixin Target target;

    @Option(names = "--json", description = "Also write the figures as JSON to this file.")
    Path json;

    @Override
    public Integer call() throws Exception {
      return target.run("evaluate", () -> {
        Resolved resolved = target.resolve();
        LocalDataset test = aligned(resolved, DatasetLoaders.load(resolved.declaration()));
        resolved.checkShape(test.inputShape());
        if (test.testSamples() == 0) {
          throw new UsageProblem("dataset '" + test.name() + "' has no test samples; give it a test split"
              + " (a test/ folder, test.csv, or a split column or test_fraction)");
        }
        EvaluationReport report = report(resolved, test);
        System.out.print(report.text());
        if (json != null) {
          Files.write(json, JSON.writeValueAsBytes(report));
        }
        return 0;
      });
    }

    /** The dataset aligned to the model's feature ids, as a training task aligns it, when the model names them. */
    private static LocalDataset aligned(Resolved resolved, LocalDataset dataset) {
      if (resolved.info().features().isEmpty()) {
        return resolved.scaling().map(s -> ConsortiumScaling.apply(dataset, s)).orElse(dataset);
      }
      FeatureAlignment.Result result = FeatureAlignment.align(dataset, resolved.info().features(),
          resolved.declaration().options().missingFeatures());
      LocalDataset aligned = result.dataset().orElseThrow(() -> new UsageProblem(result.report()));
      return resolved.scaling().map(s -> ConsortiumScaling.apply(aligned, s)).orElse(aligned);
    }

    private static EvaluationReport report(Resolved resolved, LocalDataset test) {
      EvaluationReport.Source source = EvaluationReport.Source.of(resolved.info(), test.name(), test.testSamples());
      if (resolved.info().survival()) {
        var metrics = Dl4jTrainer.evaluate(resolved.network(), test.test()).metrics();
        return new EvaluationReport.Survival(source, metrics.get("c_index"), metrics.get("loss"));
      }
      Dl4jTrainer.Classified classified = Dl4jTrainer.classify(resolved.network(), test.test());
      return EvaluationReport.Classifier.of(source, classified.evaluation(), classified.loss(), test.classes());
    }
  }

  @Command(name = "predict", mixinStandardHelpOptions = true,
      description = "Predict with a downloaded model for unlabelled cases: a folder of images or a matrix file.")
  public static final class Predict implements Callable<Integer> {
    @Mixin Target target;

    @Option(names = "--input", required = true,
        description = "A folder of images, or a table/matrix file, in the named dataset's format (no labels).")
    Path input;

    @Option(names = "--out", required = true, description = "Where to write the predictions (CSV).")
    Path out;

    @Override
    public Integer call() throws Exception {
      return target.run("predict", () -> {
        Resolved resolved = target.resolve();
        UnlabelledSamples samples = DatasetLoaders.loadUnlabelled(resolved.declaration(), input);
        List<String> features = resolved.info().features();
        INDArray x = features.isEmpty() ? samples.features() : FeatureAlignment.alignRows(samples.datasetName(),
            samples.features(), samples.featureNames(), features, resolved.declaration().options().missingFeatures());
        resolved.checkShape(features.isEmpty() ? samples.inputShape() : new long[] {features.size()});
        INDArray aligned = x;
        x = resolved.scaling().map(s -> ConsortiumScaling.apply(aligned, s)).orElse(x);
        Predictions predictions = Predictions.of(resolved.network(), samples.ids(), x, resolved.info(),
            resolved.declaration().classes());
        predictions.write(out);
        samples.skipped().forEach(s -> System.err.println("skipped (bad_rows: skip): " + s));
        System.out.println("wrote " + out + " (" + samples.ids().size() + " predictions)");
        return 0;
      });
    }
  }
}
