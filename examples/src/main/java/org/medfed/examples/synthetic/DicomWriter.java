package org.medfed.examples.synthetic;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A minimal DICOM writer for synthetic CT: explicit VR little endian (PS3.5), a PS3.10 file (128-byte
 * preamble, "DICM", the group 0002 meta information), signed 16-bit pixels with a rescale slope and
 * intercept. One frame is a classic single-frame slice of a series; several frames are a classic
 * multi-frame image, placed by one ImagePositionPatient and SpacingBetweenSlices. No DICOM library is
 * in the build, and the agent reads through ImageJ, so files written here are checked by reading them
 * back through the agent's own loader ({@code StudyFormatTest}).
 */
final class DicomWriter {
  private static final String EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1";
  private static final String CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2";
  /** A UID root for generated test data (the "2.25" UUID-derived form would do as well). */
  private static final String UID_ROOT = "1.2.826.0.1.3680043.2.1125.42.";

  private DicomWriter() {}

  /**
   * Where an image lies and how its stored values map to modality values.
   *
   * @param position ImagePositionPatient: the centre of the first pixel (of the first frame), LPS, mm
   * @param orientation ImageOrientationPatient: the row direction, then the column direction
   * @param pixelSpacing PixelSpacing: between rows, between columns, mm
   * @param sliceSpacing SliceThickness and SpacingBetweenSlices, mm
   */
  record Image(String studyUid, String seriesUid, int instance, double[] position, double[] orientation,
      double[] pixelSpacing, double sliceSpacing, double slope, double intercept, int rows, int columns) {
    Image {
      if (position.length != 3 || orientation.length != 6 || pixelSpacing.length != 2) {
        throw new IllegalArgumentException("position needs 3 values, orientation 6 and pixelSpacing 2, got "
            + position.length + ", " + orientation.length + " and " + pixelSpacing.length);
      }
      position = position.clone();
      orientation = orientation.clone();
      pixelSpacing = pixelSpacing.clone();
    }

    String instanceUid() {
      return seriesUid + "." + instance;
    }
  }

  /** A fresh UID under this writer's root, from a seeded number so that the same seed writes the same files. */
  static String uid(long number) {
    return UID_ROOT + Long.toUnsignedString(number);
  }

  /** Writes one file; {@code stored} holds the frames one after the other, each row by row. */
  static void write(Path file, Image image, short[] stored) throws IOException {
    int plane = image.rows() * image.columns();
    if (stored.length == 0 || stored.length % plane != 0) {
      throw new IllegalArgumentException(stored.length + " stored values are not whole frames of " + image.rows()
          + "x" + image.columns());
    }
    int frames = stored.length / plane;
    // A TreeMap keyed by the unsigned tag keeps the elements in ascending tag order, as PS3.5 7.1 requires.
    Map<Integer, byte[]> dataset = new TreeMap<>(Integer::compareUnsigned);
    put(dataset, 0x0008, 0x0016, "UI", ui(CT_IMAGE_STORAGE));
    put(dataset, 0x0008, 0x0018, "UI", ui(image.instanceUid()));
    put(dataset, 0x0008, 0x0060, "CS", text("CT"));
    put(dataset, 0x0018, 0x0050, "DS", ds(image.sliceSpacing()));
    put(dataset, 0x0018, 0x0088, "DS", ds(image.sliceSpacing()));
    put(dataset, 0x0020, 0x000D, "UI", ui(image.studyUid()));
    put(dataset, 0x0020, 0x000E, "UI", ui(image.seriesUid()));
    put(dataset, 0x0020, 0x0013, "IS", text(Integer.toString(image.instance())));
    put(dataset, 0x0020, 0x0032, "DS", ds(image.position()));
    put(dataset, 0x0020, 0x0037, "DS", ds(image.orientation()));
    put(dataset, 0x0028, 0x0002, "US", us(1));
    put(dataset, 0x0028, 0x0004, "CS", text("MONOCHROME2"));
    if (frames > 1) {
      put(dataset, 0x0028, 0x0008, "IS", text(Integer.toString(frames)));
    }
    put(dataset, 0x0028, 0x0010, "US", us(image.rows()));
    put(dataset, 0x0028, 0x0011, "US", us(image.columns()));
    put(dataset, 0x0028, 0x0030, "DS", ds(image.pixelSpacing()));
    put(dataset, 0x0028, 0x0100, "US", us(16));
    put(dataset, 0x0028, 0x0101, "US", us(16));
    put(dataset, 0x0028, 0x0102, "US", us(15));
    put(dataset, 0x0028, 0x0103, "US", us(1));
    put(dataset, 0x0028, 0x1052, "DS", ds(image.intercept()));
    put(dataset, 0x0028, 0x1053, "DS", ds(image.slope()));
    ByteBuffer pixels = ByteBuffer.allocate(stored.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short v : stored) {
      pixels.putShort(v);
    }
    put(dataset, 0x7FE0, 0x0010, "OW", pixels.array());

    ByteArrayOutputStream meta = new ByteArrayOutputStream();
    element(meta, 0x0002, 0x0001, "OB", new byte[] {0, 1});
    element(meta, 0x0002, 0x0002, "UI", ui(CT_IMAGE_STORAGE));
    element(meta, 0x0002, 0x0003, "UI", ui(image.instanceUid()));
    element(meta, 0x0002, 0x0010, "UI", ui(EXPLICIT_VR_LITTLE_ENDIAN));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[128]);
    out.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
    // The group length lets a reader find where the meta group ends and the dataset's syntax begins.
    element(out, 0x0002, 0x0000, "UL", ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(meta.size())
        .array());
    meta.writeTo(out);
    dataset.values().forEach(out::writeBytes);
    Files.write(file, out.toByteArray());
  }

  private static void put(Map<Integer, byte[]> dataset, int group, int element, String vr, byte[] value) {
    ByteArrayOutputStream encoded = new ByteArrayOutputStream();
    element(encoded, group, element, vr, value);
    dataset.put(group << 16 | element, encoded.toByteArray());
  }

  /** Tag, VR, then a 2-byte length, or 2 reserved bytes and a 4-byte length for OB and OW (PS3.5 7.1.2). */
  private static void element(ByteArrayOutputStream out, int group, int element, String vr, byte[] value) {
    if (value.length % 2 != 0) {
      throw new IllegalStateException("value of (" + group + "," + element + ") has odd length " + value.length);
    }
    boolean longForm = vr.equals("OB") || vr.equals("OW");
    ByteBuffer header = ByteBuffer.allocate(longForm ? 12 : 8).order(ByteOrder.LITTLE_ENDIAN);
    header.putShort((short) group).putShort((short) element).put(vr.getBytes(StandardCharsets.US_ASCII));
    if (longForm) {
      header.putShort((short) 0).putInt(value.length);
    } else {
      header.putShort((short) value.length);
    }
    out.writeBytes(header.array());
    out.writeBytes(value);
  }

  /** Text padded with a space to an even length (PS3.5 6.2). */
  private static byte[] text(String value) {
    return (value.length() % 2 == 0 ? value : value + " ").getBytes(StandardCharsets.US_ASCII);
  }

  /** A UID padded with a NUL to an even length. */
  private static byte[] ui(String value) {
    return (value.length() % 2 == 0 ? value : value + "\0").getBytes(StandardCharsets.US_ASCII);
  }

  /** Decimal strings, backslash-separated; ten significant digits keep each within the 16 bytes a DS allows. */
  private static byte[] ds(double... values) {
    return text(Arrays.stream(values).mapToObj(v -> new BigDecimal(v).round(new MathContext(10)).stripTrailingZeros()
        .toPlainString()).collect(Collectors.joining("\\")));
  }

  private static byte[] us(int value) {
    return ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) value).array();
  }
}
