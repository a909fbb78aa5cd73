package ebm.io;

import ebm.EbmException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files holding one 2-D floating-point matrix.
 *
 * <p>Reading accepts format versions 1.0, 2.0 and 3.0, dtypes float64 and float32 in either byte order
 * ({@code <f8 >f8 <f4 >f4}; the byte-order marks {@code |} and {@code =} are read as little-endian, which is what
 * numpy writes on every platform we run on), C order, and exactly two dimensions with at least one row and one
 * column. Values are widened to double; non-finite values are passed through (the data loader rejects them with
 * a row number). Writing produces version 1.0, {@code <f8}, C order, atomically.
 */
public final class Npy {
    private Npy() {}

    /** A row-major matrix: element (r, c) is {@code data[r * cols + c]}. */
    public record Matrix(int rows, int cols, double[] data) {
        public Matrix {
            if (rows < 0 || cols < 0 || (long) rows * cols != data.length) {
                throw new IllegalArgumentException(
                        "matrix " + rows + " x " + cols + " does not match " + data.length + " values");
            }
        }

        public double get(int row, int col) {
            return data[row * cols + col];
        }

        /** A copy of row r. */
        public double[] row(int r) {
            return Arrays.copyOfRange(data, r * cols, (r + 1) * cols);
        }

        /** The rows at the given indices, in the given order. */
        public Matrix selectRows(int[] indices) {
            double[] out = new double[indices.length * cols];
            for (int i = 0; i < indices.length; i++) {
                System.arraycopy(data, indices[i] * cols, out, i * cols, cols);
            }
            return new Matrix(indices.length, cols, out);
        }
    }

    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    static final List<String> ALLOWED_DTYPES = List.of("<f8", ">f8", "<f4", ">f4");

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*('([^']*)'|\\[)");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** Reads a 2-D float64/float32 matrix; every problem becomes an EbmException naming the file. */
    public static Matrix read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(file, ch);
        } catch (NoSuchFileException e) {
            throw new EbmException(file + ": no such file");
        } catch (IOException e) {
            throw new EbmException(file + ": cannot read .npy file: " + e.getMessage(), e);
        }
    }

    private static Matrix read(Path file, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, pre);
        pre.flip();
        if (pre.remaining() < 10 || !startsWithMagic(pre)) {
            throw new EbmException(file + ": not a .npy file (bad magic: the file must start with \\x93NUMPY)");
        }
        int major = pre.get(6) & 0xFF;
        int minor = pre.get(7) & 0xFF;
        long headerLength;
        int prefix;
        if (major == 1) {
            headerLength = pre.getShort(8) & 0xFFFF;
            prefix = 10;
        } else if (major == 2 || major == 3) {
            if (pre.remaining() < 12) throw new EbmException(file + ": truncated .npy header");
            headerLength = pre.getInt(8) & 0xFFFFFFFFL;
            prefix = 12;
        } else {
            throw new EbmException(file + ": unsupported .npy format version " + major + "." + minor
                    + " (supported: 1.0, 2.0, 3.0)");
        }
        if (prefix + headerLength > fileSize || headerLength > 1 << 20) {
            throw new EbmException(file + ": truncated .npy header (says " + headerLength + " bytes, file has "
                    + fileSize + ")");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLength);
        ch.position(prefix);
        readFully(ch, hb);
        // Version 3.0 only changes the header encoding to UTF-8; dtype names and numbers are ASCII either way.
        String header = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

        Matcher d = DESCR.matcher(header);
        if (!d.find()) throw new EbmException(file + ": .npy header has no 'descr': " + header.strip());
        if (d.group(2) == null) {
            throw new EbmException(file + ": unsupported dtype (a structured dtype); allowed: "
                    + String.join(", ", ALLOWED_DTYPES));
        }
        String descr = d.group(2);
        ByteOrder order;
        int itemSize;
        switch (descr) {
            case "<f8", "|f8", "=f8" -> { order = ByteOrder.LITTLE_ENDIAN; itemSize = 8; }
            case ">f8" -> { order = ByteOrder.BIG_ENDIAN; itemSize = 8; }
            case "<f4", "|f4", "=f4" -> { order = ByteOrder.LITTLE_ENDIAN; itemSize = 4; }
            case ">f4" -> { order = ByteOrder.BIG_ENDIAN; itemSize = 4; }
            default -> throw new EbmException(file + ": unsupported dtype '" + descr + "'; allowed: "
                    + String.join(", ", ALLOWED_DTYPES) + " (convert with arr.astype('float64'))");
        }
        Matcher f = FORTRAN.matcher(header);
        if (!f.find()) throw new EbmException(file + ": .npy header has no 'fortran_order': " + header.strip());
        if (f.group(1).equals("True")) {
            throw new EbmException(file + ": Fortran-order arrays are not supported; save a C-order copy "
                    + "(np.save(path, np.ascontiguousarray(arr)))");
        }
        Matcher s = SHAPE.matcher(header);
        if (!s.find()) throw new EbmException(file + ": .npy header has no 'shape': " + header.strip());
        long[] shape = parseShape(file, s.group(1));
        if (shape.length != 2) {
            throw new EbmException(file + ": expected a 2-D array (rows x columns), found " + shape.length
                    + "-D shape (" + s.group(1).strip() + ")");
        }
        long rows = shape[0];
        long cols = shape[1];
        if (rows == 0) throw new EbmException(file + ": empty array (0 rows)");
        if (cols == 0) throw new EbmException(file + ": empty array (0 columns)");
        if (rows * cols > Integer.MAX_VALUE - 8) {
            throw new EbmException(file + ": array of " + rows + " x " + cols + " is too large (limit 2^31 values)");
        }
        long dataStart = prefix + headerLength;
        long needed = rows * cols * itemSize;
        long available = fileSize - dataStart;
        if (available < needed) {
            long completeRows = available / (cols * itemSize);
            throw new EbmException(file + ": truncated data: shape (" + rows + ", " + cols + ") of " + descr
                    + " needs " + needed + " bytes, the file holds " + available + "; row " + completeRows
                    + " (0-based) is the first incomplete row");
        }
        double[] data = new double[(int) (rows * cols)];
        ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(order);
        ch.position(dataStart);
        int next = 0;
        long left = needed;
        while (left > 0) {
            chunk.clear();
            chunk.limit((int) Math.min(chunk.capacity(), left));
            readFully(ch, chunk);
            chunk.flip();
            left -= chunk.remaining();
            if (itemSize == 8) {
                while (chunk.remaining() >= 8) data[next++] = chunk.getDouble();
            } else {
                while (chunk.remaining() >= 4) data[next++] = chunk.getFloat();
            }
        }
        return new Matrix((int) rows, (int) cols, data);
    }

    private static long[] parseShape(Path file, String tuple) {
        String[] parts = tuple.split(",");
        int count = 0;
        long[] out = new long[parts.length];
        for (String p : parts) {
            String t = p.strip();
            if (t.isEmpty()) continue; // the trailing comma of a 1-tuple "(5,)"
            if (t.endsWith("L")) t = t.substring(0, t.length() - 1); // Python 2 longs
            try {
                out[count++] = Long.parseLong(t);
            } catch (NumberFormatException e) {
                throw new EbmException(file + ": bad shape (" + tuple + ") in .npy header");
            }
        }
        return Arrays.copyOf(out, count);
    }

    private static boolean startsWithMagic(ByteBuffer b) {
        for (int i = 0; i < MAGIC.length; i++) if (b.get(i) != MAGIC[i]) return false;
        return true;
    }

    private static void readFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) break;
        }
    }

    /**
     * Writes a row-major rows x cols matrix as a version 1.0 {@code <f8} C-order .npy file. The bytes go to a
     * temporary file in the same directory which is then moved over the target, so readers never see half a file.
     */
    public static void write(Path file, int rows, int cols, double[] data) {
        if ((long) rows * cols != data.length || rows < 0 || cols < 0) {
            throw new IllegalArgumentException("shape " + rows + " x " + cols + " does not match " + data.length
                    + " values");
        }
        byte[] header = header(rows, cols);
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = null;
        try {
            tmp = AtomicFile.createTemporary(dir, target.getFileName().toString());
            try (OutputStream out = Files.newOutputStream(tmp)) {
                out.write(header);
                ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (double v : data) {
                    if (!chunk.hasRemaining()) {
                        out.write(chunk.array(), 0, chunk.position());
                        chunk.clear();
                    }
                    chunk.putDouble(v);
                }
                out.write(chunk.array(), 0, chunk.position());
            }
            AtomicFile.moveOver(tmp, target);
            tmp = null;
        } catch (IOException e) {
            throw new EbmException(file + ": cannot write .npy file: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: the original error is the one to report
                }
            }
        }
    }

    /** Magic, version 1.0, header length, and the dict padded with spaces so the data starts on a 64-byte line. */
    static byte[] header(int rows, int cols) {
        String dict = String.format(Locale.ROOT, "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }",
                rows, cols);
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int total = (unpadded + 63) / 64 * 64;
        String padded = dict + " ".repeat(total - unpadded) + "\n";
        byte[] out = new byte[total];
        System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
        out[6] = 1;
        out[7] = 0;
        int len = padded.length();
        out[8] = (byte) len;
        out[9] = (byte) (len >>> 8);
        byte[] dictBytes = padded.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(dictBytes, 0, out, 10, dictBytes.length);
        return out;
    }
}
