package org.medfed.nodeagent.data;

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
import java.util.stream.Collectors;

/**
 * Writes test DICOM files byte by byte per PS3.5 (explicit VR little endian, 16-bit signed pixels)
 * and PS3.10 (preamble, "DICM", file meta group), with the tags a volume needs, so the reader is
 * checked against the standard's layout rather than against itself.
 */
final class DicomFile {
  private static final String EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1";
  private static final String CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2";

  String seriesUid = "1.2.826.0.1.3680043.2.1125.1";
  int instance = 1;
  /** ImagePositionPatient: the centre of the first pixel, LPS, in mm. */
  double[] position = {0, 0, 0};
  /** ImageOrientationPatient: the row direction (towards increasing column index), then the column direction. */
  double[] orientation = {1, 0, 0, 0, 1, 0};
  /** PixelSpacing: between rows, between columns. */
  double[] pixelSpacing = {1, 1};
  double sliceThickness = 1;
  /** SpacingBetweenSlices; 0 leaves the tag out. */
  double spacingBetweenSlices;
  double slope = 1;
  double intercept;
  int rows = 2;
  int columns = 2;
  /**
   * One ImagePositionPatient per frame: written as an enhanced multi-frame file does, in the
   * Per-frame Functional Groups Sequence, with orientation and pixel spacing in the Shared Functional
   * Groups Sequence (sequences and items of undefined length) and none of the three at the top level.
   */
  double[][] framePositions;
  /** Stored values, frame by frame, row by row; more than one frame writes NumberOfFrames. */
  short[] stored = new short[4];

  Path write(Path file) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    int frames = stored.length / (rows * columns);
    element(body, 0x0008, 0x0016, "UI", ui(CT_IMAGE_STORAGE));
    element(body, 0x0008, 0x0018, "UI", ui(seriesUid + "." + instance));
    element(body, 0x0008, 0x0060, "CS", text("CT"));
    element(body, 0x0018, 0x0050, "DS", ds(sliceThickness));
    if (spacingBetweenSlices > 0) {
      element(body, 0x0018, 0x0088, "DS", ds(spacingBetweenSlices));
    }
    element(body, 0x0020, 0x000D, "UI", ui("1.2.826.0.1.3680043.2.1125.9"));
    element(body, 0x0020, 0x000E, "UI", ui(seriesUid));
    element(body, 0x0020, 0x0013, "IS", text(Integer.toString(instance)));
    if (framePositions == null) {
      element(body, 0x0020, 0x0032, "DS", ds(position));
      element(body, 0x0020, 0x0037, "DS", ds(orientation));
    }
    element(body, 0x0028, 0x0002, "US", us(1));
    element(body, 0x0028, 0x0004, "CS", text("MONOCHROME2"));
    if (frames > 1) {
      element(body, 0x0028, 0x0008, "IS", text(Integer.toString(frames)));
    }
    element(body, 0x0028, 0x0010, "US", us(rows));
    element(body, 0x0028, 0x0011, "US", us(columns));
    if (framePositions == null) {
      element(body, 0x0028, 0x0030, "DS", ds(pixelSpacing));
    }
    element(body, 0x0028, 0x0100, "US", us(16));
    element(body, 0x0028, 0x0101, "US", us(16));
    element(body, 0x0028, 0x0102, "US", us(15));
    element(body, 0x0028, 0x0103, "US", us(1));
    element(body, 0x0028, 0x1052, "DS", ds(intercept));
    element(body, 0x0028, 0x1053, "DS", ds(slope));
    ByteBuffer pixels = ByteBuffer.allocate(stored.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short v : stored) {
      pixels.putShort(v);
    }
    if (framePositions != null) {
      ByteArrayOutputStream shared = new ByteArrayOutputStream();
      sequence(shared, 0x0020, 0x9116, one(0x0020, 0x0037, ds(orientation)));
      sequence(shared, 0x0028, 0x9110, one(0x0028, 0x0030, ds(pixelSpacing)));
      sequence(body, 0x5200, 0x9229, shared.toByteArray());
      ByteArrayOutputStream perFrame = new ByteArrayOutputStream();
      for (double[] framePosition : framePositions) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        sequence(frame, 0x0020, 0x9113, one(0x0020, 0x0032, ds(framePosition)));
        item(perFrame, frame.toByteArray());
      }
      undefinedLength(body, 0x5200, 0x9230);
      perFrame.writeTo(body);
      delimiter(body, 0xE0DD);
    }
    element(body, 0x7FE0, 0x0010, "OW", pixels.array());

    ByteArrayOutputStream meta = new ByteArrayOutputStream();
    element(meta, 0x0002, 0x0001, "OB", new byte[] {0, 1});
    element(meta, 0x0002, 0x0002, "UI", ui(CT_IMAGE_STORAGE));
    element(meta, 0x0002, 0x0003, "UI", ui(seriesUid + "." + instance));
    element(meta, 0x0002, 0x0010, "UI", ui(EXPLICIT_VR_LITTLE_ENDIAN));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[128]);
    out.write("DICM".getBytes(StandardCharsets.US_ASCII));
    element(out, 0x0002, 0x0000, "UL", ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(meta.size())
        .array());
    meta.writeTo(out);
    body.writeTo(out);
    return Files.write(file, out.toByteArray());
  }

  /** One data element: tag, VR, then a 2-byte length, or 2 reserved bytes and a 4-byte length for OB/OW/SQ. */
  private static void element(ByteArrayOutputStream out, int group, int element, String vr, byte[] value) {
    boolean longForm = vr.equals("OB") || vr.equals("OW") || vr.equals("SQ");
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

  /** A sequence of undefined length holding one item of undefined length with {@code content}. */
  private static void sequence(ByteArrayOutputStream out, int group, int element, byte[] content) {
    undefinedLength(out, group, element);
    item(out, content);
    delimiter(out, 0xE0DD);
  }

  private static void item(ByteArrayOutputStream out, byte[] content) {
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0xFFFE)
        .putShort((short) 0xE000).putInt(-1).array());
    out.writeBytes(content);
    delimiter(out, 0xE00D);
  }

  /** An SQ element's header with the undefined length 0xFFFFFFFF. */
  private static void undefinedLength(ByteArrayOutputStream out, int group, int element) {
    out.writeBytes(ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putShort((short) group)
        .putShort((short) element).put("SQ".getBytes(StandardCharsets.US_ASCII)).putShort((short) 0).putInt(-1)
        .array());
  }

  /** An item (0xE00D) or sequence (0xE0DD) delimitation item. */
  private static void delimiter(ByteArrayOutputStream out, int element) {
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0xFFFE)
        .putShort((short) element).putInt(0).array());
  }

  private static byte[] one(int group, int element, byte[] decimalString) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    element(out, group, element, "DS", decimalString);
    return out.toByteArray();
  }

  /** Text padded with a space to an even length, as PS3.5 asks. */
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
