package org.medfed.trust.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * An append-only, hash-chained audit log: one JSON record per line, each carrying the SHA-256 of
 * the record before it and its own, so editing, deleting or reordering any record breaks the chain
 * at that point ({@link AuditVerifier} finds it). Records hold identifiers and digests only; callers
 * must never put an individual update, a key or patient data in one.
 */
public final class AuditLog implements AutoCloseable {
  static final String GENESIS = "0".repeat(64);
  static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final Clock clock;
  /**
   * A stream, not a FileChannel: an interrupted thread closes a channel for every thread, and a
   * coordinator stopping (or a cancelled call) must never silence the audit log.
   */
  private final FileOutputStream out;
  /** Bytes of whole records in the file: a failed append is cut back to here. */
  private long length;
  private long seq;
  private String last;
  private Consumer<Entry> mirror = entry -> {};

  /** One appended record, as written: for copies of the log kept elsewhere (the coordinator's database). */
  public record Entry(long seq, String time, String type, String detailsJson, String hash) {
    static Entry of(JsonNode record) {
      return new Entry(record.get("seq").asLong(), record.get("time").asText(), record.get("type").asText(),
          record.get("details").toString(), record.get("hash").asText());
    }
  }

  private AuditLog(Path file, Clock clock, FileOutputStream out, long length, long seq, String last) {
    this.file = file;
    this.length = length;
    this.clock = clock;
    this.out = out;
    this.seq = seq;
    this.last = last;
  }

  /**
   * Opens (or creates) the log and continues its chain. An existing log is verified first: appending
   * to a broken chain would hide where it broke.
   */
  public static AuditLog open(Path file, Clock clock) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    long seq = 0;
    String last = GENESIS;
    if (Files.exists(file)) {
      AuditVerifier.Result result = AuditVerifier.verify(file);
      if (result.broken().isPresent()) {
        throw new IOException("audit log " + file + " is broken at " + result.broken().get()
            + "; move it aside for investigation and start a new one; records are not appended to a broken chain");
      }
      seq = result.records();
      last = result.lastHash();
    }
    FileOutputStream out = new FileOutputStream(file.toFile(), true);
    return new AuditLog(file, clock, out, Files.size(file), seq, last);
  }

  public Path file() {
    return file;
  }

  /** The chain's newest record: what a model card or a hospital's witness log pins. */
  public record Head(long seq, String hash) {}

  public synchronized Head head() {
    return new Head(seq, last);
  }

  /**
   * Appends one record and forces it to disk. {@code details} values are identifiers, digests,
   * counts and reasons; keys are written in sorted order.
   *
   * @throws IllegalStateException when the file cannot take the record (a full disk): the record is
   *     then in neither the file nor its mirror, and the chain goes on from the record before it
   */
  public synchronized void append(String type, Map<String, ?> details) {
    ObjectNode record = JSON.createObjectNode();
    record.put("seq", seq + 1);
    record.put("time", clock.instant().toString());
    record.put("type", type);
    ObjectNode body = record.putObject("details");
    new TreeMap<>(details).forEach((key, value) -> body.set(key, JSON.valueToTree(value)));
    record.put("prev", last);
    String hash = hash(record);
    record.put("hash", hash);
    try {
      byte[] line = (JSON.writeValueAsString(record) + "\n").getBytes(StandardCharsets.UTF_8);
      out.write(line);
      out.getFD().sync();
      length += line.length;
    } catch (IOException e) {
      cutBack(e);
      throw new IllegalStateException("could not append to the audit log " + file + ": " + e.getMessage()
          + "; the record was not written (free space on that disk and the next record continues the chain)", e);
    }
    seq++;
    last = hash;
    mirror.accept(Entry.of(record));
  }

  /**
   * A full disk can take part of a line: cut it off, or every later record would follow half a
   * record and the chain would read as broken there.
   */
  private void cutBack(IOException failure) {
    try (RandomAccessFile raw = new RandomAccessFile(file.toFile(), "rw")) {
      raw.setLength(length);
    } catch (IOException e) {
      failure.addSuppressed(e);
    }
  }

  /** Hands every record appended from now on to {@code sink}, after it is on disk. */
  public synchronized void mirrorTo(Consumer<Entry> sink) {
    mirror = sink;
  }

  /** The records of a log file in order; stops at the first line that is not a complete record. */
  public static List<Entry> read(Path file) throws IOException {
    List<Entry> entries = new ArrayList<>();
    if (!Files.exists(file)) {
      return entries;
    }
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      try {
        JsonNode record = JSON.readTree(line);
        if (record == null || !record.has("seq") || !record.has("hash") || !record.has("details")) {
          break;
        }
        entries.add(Entry.of(record));
      } catch (IOException e) {
        break;
      }
    }
    return entries;
  }

  /** SHA-256 over the record's canonical JSON without its own hash field. */
  static String hash(JsonNode recordWithoutHash) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(JSON.writeValueAsBytes(recordWithoutHash)));
    } catch (NoSuchAlgorithmException | IOException e) {
      throw new IllegalStateException("SHA-256 over an in-memory record failed", e);
    }
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }
}
