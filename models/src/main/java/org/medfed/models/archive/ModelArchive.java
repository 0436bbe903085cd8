package org.medfed.models.archive;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * The model zip {@code medfed download} hands out: a standard DL4J {@link ModelSerializer} zip (so
 * {@code ModelSerializer.restoreMultiLayerNetwork} reads it) plus one entry, {@value #INFO_ENTRY},
 * that says what the model expects as input. The one place that writes and reads that entry.
 * Thread-safe: stateless.
 */
public final class ModelArchive {
  public static final String INFO_ENTRY = "medfed/model-info.json";
  /**
   * Every entry gets this time, so the same model always gives the same bytes (downloads are
   * compared and digested). Set as a local DOS time so the machine's time zone cannot shift it.
   */
  private static final LocalDateTime ENTRY_TIME = LocalDateTime.of(2000, 1, 1, 0, 0);
  private static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private ModelArchive() {}

  /** A model read back from its zip, with what it expects as input. */
  public record Opened(MultiLayerNetwork network, ModelInfo info) {}

  /** The network as a DL4J zip (without updater state) with {@code info} added, byte-for-byte reproducible. */
  public static byte[] write(MultiLayerNetwork network, ModelInfo info) {
    ByteArrayOutputStream dl4j = new ByteArrayOutputStream();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ModelSerializer.writeModel(network, dl4j, false);
      try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(dl4j.toByteArray()));
          ZipOutputStream zip = new ZipOutputStream(out)) {
        for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
          put(zip, entry.getName(), in.readAllBytes());
        }
        put(zip, INFO_ENTRY, JSON.writeValueAsBytes(info));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serialise the model", e);
    }
    return out.toByteArray();
  }

  private static void put(ZipOutputStream zip, String name, byte[] content) throws IOException {
    ZipEntry entry = new ZipEntry(name);
    entry.setTimeLocal(ENTRY_TIME);
    zip.putNextEntry(entry);
    zip.write(content);
    zip.closeEntry();
  }

  /**
   * Reads a model zip made by {@code medfed download}.
   *
   * @throws ModelArchiveException naming the file, what is wrong and what to do
   */
  public static Opened read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new ModelArchiveException("model file " + file + " does not exist; download it with"
          + " `medfed download JOB_ID --out " + file.getFileName() + "`");
    }
    ModelInfo info = info(file);
    MultiLayerNetwork network;
    try {
      network = ModelSerializer.restoreMultiLayerNetwork(file.toFile(), false);
    } catch (IOException | RuntimeException e) {
      throw new ModelArchiveException(file + ": the DL4J model inside cannot be restored (" + e.getMessage()
          + "); download it again with `medfed download " + info.jobId() + "`", e);
    }
    return new Opened(network, info);
  }

  /** The model info of a zip, without restoring the network. */
  public static ModelInfo info(Path file) {
    try (ZipFile zip = new ZipFile(file.toFile())) {
      ZipEntry entry = zip.getEntry(INFO_ENTRY);
      if (entry == null) {
        throw new ModelArchiveException(file + " has no " + INFO_ENTRY + ", so it was not made by `medfed download`"
            + " (or by an older medfed); download the job's model again with `medfed download JOB_ID --out "
            + file.getFileName() + "`");
      }
      return JSON.readValue(zip.getInputStream(entry).readAllBytes(), ModelInfo.class);
    } catch (ZipException e) {
      throw new ModelArchiveException(file + " is not a model zip (" + e.getMessage() + "); download it again"
          + " with `medfed download JOB_ID --out " + file.getFileName() + "`", e);
    } catch (JsonProcessingException e) {
      throw new ModelArchiveException(file + ": " + INFO_ENTRY + " is unreadable (" + e.getOriginalMessage()
          + "); download the model again with `medfed download`", e);
    } catch (IOException e) {
      throw new ModelArchiveException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }
}
