package ebm.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ebm.EbmException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * (tensor name → dtype, shape, data_offsets into the byte buffer, plus an optional string→string
 * {@code __metadata__}), then the byte buffer. Tensors are little-endian and row-major. Only F64 and F32 are
 * supported; both are read into double[]. Every inconsistency in a file is an {@link EbmException} that names the
 * file and, where there is one, the tensor.
 */
public final class Safetensors {

    public static final String F64 = "F64";
    public static final String F32 = "F32";

    /** The key under which the header carries string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    /** The reference implementation refuses headers above 100 MB; a larger one means a corrupt length field. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final int CHUNK_BYTES = 1 << 16;

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION) // a repeated tensor name is ambiguous, not "last wins"
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Safetensors() {
    }

    /**
     * One tensor. {@code dtype} is how it is (or was) stored on disk; {@link #write} ignores it and stores every
     * tensor in the dtype it is given. The arrays are not copied.
     */
    public record Tensor(String name, String dtype, long[] shape, double[] data) {

        public Tensor {
            if (name == null || name.isEmpty()) throw new IllegalArgumentException("tensor name must be non-empty");
            if (shape == null || data == null) throw new IllegalArgumentException("tensor " + name + " needs a shape and data");
            long count = elementCount(shape);
            if (count != data.length) {
                throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(shape) + " (" + count
                        + " elements) but " + data.length + " values");
            }
        }

        /** A tensor to be written; the dtype is chosen at write time. */
        public static Tensor of(String name, long[] shape, double[] data) {
            return new Tensor(name, F64, shape, data);
        }

        @Override
        public String toString() {
            return "Tensor[" + name + ", " + dtype + ", shape=" + Arrays.toString(shape) + "]";
        }
    }

    /** A file's metadata and its tensors in header order. */
    public record Contents(Map<String, String> metadata, LinkedHashMap<String, Tensor> tensors) {
    }

    /** Bytes per element, or -1 for a dtype this reader does not handle. */
    static int dtypeBytes(String dtype) {
        return switch (dtype) {
            case F64 -> 8;
            case F32 -> 4;
            default -> -1;
        };
    }

    /** Product of the dimensions; an empty shape is a scalar (one element). */
    static long elementCount(long[] shape) {
        long count = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            count = Math.multiplyExact(count, d);
        }
        return count;
    }

    // ---------------------------------------------------------------------------------------------------- reading

    public static Contents read(Path file) {
        if (!Files.exists(file)) throw new EbmException(file + ": no such file");
        if (!Files.isRegularFile(file)) throw new EbmException(file + ": not a regular file");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw invalid(file, "file is only " + fileSize + " bytes, too short for the 8-byte header length");
            }
            long headerLength = readFully(channel, 0, 8).getLong();
            // Compare unsigned: the field is a u64, and a huge value must read as "too long", not as negative.
            if (Long.compareUnsigned(headerLength, fileSize - 8) > 0) {
                throw invalid(file, "header length " + Long.toUnsignedString(headerLength) + " runs past the end of the file ("
                        + fileSize + " bytes)");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw invalid(file, "header length " + headerLength + " exceeds the " + MAX_HEADER_BYTES + "-byte limit");
            }
            if (headerLength < 2) throw invalid(file, "header length " + headerLength + " is too short for a JSON object");
            byte[] headerBytes = new byte[(int) headerLength];
            readFully(channel, 8, (int) headerLength).get(headerBytes);
            JsonNode root = parseHeader(file, headerBytes);
            long bufferStart = 8 + headerLength;
            long bufferLength = fileSize - bufferStart;

            Map<String, String> metadata = readMetadata(file, root.get(METADATA_KEY));
            List<Entry> entries = readEntries(file, root, bufferLength);
            checkNoOverlap(file, entries);

            LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
            for (Entry e : entries) {
                double[] data = readData(channel, bufferStart + e.begin, e.dtype, (int) e.count);
                tensors.put(e.name, new Tensor(e.name, e.dtype, e.shape, data));
            }
            return new Contents(Collections.unmodifiableMap(metadata), tensors);
        } catch (IOException e) {
            throw new EbmException(file + ": cannot read: " + describe(e), e);
        }
    }

    /** A header entry, validated against the buffer but not yet read. */
    private record Entry(String name, String dtype, long[] shape, long count, long begin, long end) {
    }

    private static JsonNode parseHeader(Path file, byte[] headerBytes) {
        JsonNode root;
        try {
            root = JSON.readTree(headerBytes);
        } catch (JacksonException e) {
            String detail = oneLine(e.getOriginalMessage());
            // Duplicate keys are valid JSON to many parsers but ambiguous here, so say what they are.
            if (detail.startsWith("Duplicate field")) throw invalid(file, "header lists a name twice (" + detail + ")");
            throw invalid(file, "header is not JSON (" + detail + ")");
        } catch (IOException e) {
            throw invalid(file, "header is not JSON (" + describe(e) + ")");
        }
        if (root == null || !root.isObject()) throw invalid(file, "header is JSON but not an object");
        return root;
    }

    private static Map<String, String> readMetadata(Path file, JsonNode node) {
        Map<String, String> metadata = new LinkedHashMap<>();
        if (node == null || node.isNull()) return metadata;
        if (!node.isObject()) throw invalid(file, METADATA_KEY + " must be an object of strings, found " + node.getNodeType());
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (!field.getValue().isTextual()) {
                throw invalid(file, METADATA_KEY + " value for '" + field.getKey() + "' must be a string, found "
                        + field.getValue().getNodeType());
            }
            metadata.put(field.getKey(), field.getValue().textValue());
        }
        return metadata;
    }

    private static List<Entry> readEntries(Path file, JsonNode root, long bufferLength) {
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            if (name.equals(METADATA_KEY)) continue;
            JsonNode node = field.getValue();
            if (!node.isObject()) throw invalidTensor(file, name, "entry must be an object, found " + node.getNodeType());

            JsonNode dtypeNode = requireField(file, name, node, "dtype");
            if (!dtypeNode.isTextual()) throw invalidTensor(file, name, "dtype must be a string, found " + dtypeNode);
            String dtype = dtypeNode.textValue();
            int elementBytes = dtypeBytes(dtype);
            if (elementBytes < 0) {
                throw new EbmException(file + ": tensor '" + name + "' has dtype " + dtype + ", which is not supported (only "
                        + F64 + " and " + F32 + ")");
            }

            long[] shape = longArray(file, name, "shape", requireField(file, name, node, "shape"), -1);
            long[] offsets = longArray(file, name, "data_offsets", requireField(file, name, node, "data_offsets"), 2);
            long begin = offsets[0];
            long end = offsets[1];
            long count;
            long expectedBytes;
            try {
                count = elementCount(shape);
                expectedBytes = Math.multiplyExact(count, elementBytes);
            } catch (ArithmeticException e) {
                throw invalidTensor(file, name, "shape " + Arrays.toString(shape) + " is too large");
            }
            if (begin > end) throw invalidTensor(file, name, "data_offsets [" + begin + ", " + end + "] begin after end");
            if (end > bufferLength) {
                throw invalidTensor(file, name, "data_offsets [" + begin + ", " + end + "] run past the " + bufferLength
                        + "-byte data buffer");
            }
            if (end - begin != expectedBytes) {
                throw invalidTensor(file, name, "data_offsets [" + begin + ", " + end + "] span " + (end - begin)
                        + " bytes, but " + dtype + " " + Arrays.toString(shape) + " needs " + expectedBytes);
            }
            if (count > Integer.MAX_VALUE - 8) {
                throw invalidTensor(file, name, "shape " + Arrays.toString(shape) + " has too many elements for one array");
            }
            entries.add(new Entry(name, dtype, shape, count, begin, end));
        }
        return entries;
    }

    private static JsonNode requireField(Path file, String tensor, JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) throw invalidTensor(file, tensor, "missing field '" + field + "'");
        return value;
    }

    /** A JSON array of non-negative integers; {@code length} = -1 accepts any length. */
    private static long[] longArray(Path file, String tensor, String field, JsonNode node, int length) {
        if (!node.isArray()) throw invalidTensor(file, tensor, field + " must be an array, found " + node);
        if (length >= 0 && node.size() != length) {
            throw invalidTensor(file, tensor, field + " must have " + length + " entries, found " + node);
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw invalidTensor(file, tensor, field + " must hold non-negative integers, found " + node);
            }
            values[i] = v.longValue();
        }
        return values;
    }

    /**
     * Two tensors may not share bytes. Gaps between tensors are tolerated (they cost nothing to skip), unlike in
     * the reference implementation, so that files from lenient writers still load.
     */
    private static void checkNoOverlap(Path file, List<Entry> entries) {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.removeIf(e -> e.begin == e.end); // empty tensors occupy no bytes
        byOffset.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < byOffset.size(); i++) {
            Entry previous = byOffset.get(i - 1);
            Entry current = byOffset.get(i);
            if (current.begin < previous.end) {
                throw new EbmException(file + ": not a valid safetensors file: tensor '" + current.name + "' (bytes "
                        + current.begin + ".." + current.end + ") overlaps tensor '" + previous.name + "' (bytes "
                        + previous.begin + ".." + previous.end + ")");
            }
        }
    }

    private static double[] readData(FileChannel channel, long position, String dtype, int count) throws IOException {
        double[] data = new double[count];
        int elementBytes = dtypeBytes(dtype);
        int perChunk = CHUNK_BYTES / elementBytes;
        for (int done = 0; done < count; ) {
            int n = Math.min(perChunk, count - done);
            ByteBuffer chunk = readFully(channel, position + (long) done * elementBytes, n * elementBytes);
            if (elementBytes == 8) {
                for (int i = 0; i < n; i++) data[done + i] = chunk.getDouble();
            } else {
                for (int i = 0; i < n; i++) data[done + i] = chunk.getFloat();
            }
            done += n;
        }
        return data;
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) throw new IOException("unexpected end of file at byte " + (position + buffer.position()));
        }
        return buffer.flip();
    }

    // ---------------------------------------------------------------------------------------------------- writing

    /**
     * Writes {@code tensors} (in list order, back to back) with {@code metadata}, every tensor stored as
     * {@code dtype} (F64 or F32). The file is replaced atomically: a failure leaves any existing file untouched.
     */
    public static void write(Path file, Map<String, String> metadata, List<Tensor> tensors, String dtype) {
        int elementBytes = dtype == null ? -1 : dtypeBytes(dtype);
        if (elementBytes < 0) throw new EbmException("cannot write " + file + ": dtype must be F64 or F32, got " + dtype);
        byte[] header = encodeHeader(file, metadata, tensors, dtype, elementBytes);
        writeAtomically(file, channel -> {
            ByteBuffer buffer = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buffer.putLong(header.length);
            buffer.flip();
            writeFully(channel, buffer);
            writeFully(channel, ByteBuffer.wrap(header));
            buffer.clear();
            for (Tensor t : tensors) {
                for (double v : t.data) {
                    if (buffer.remaining() < elementBytes) {
                        writeFully(channel, buffer.flip());
                        buffer.clear();
                    }
                    if (elementBytes == 8) buffer.putDouble(v);
                    else buffer.putFloat((float) v);
                }
            }
            writeFully(channel, buffer.flip());
        });
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes so the buffer starts aligned. */
    static byte[] encodeHeader(Path file, Map<String, String> metadata, List<Tensor> tensors, String dtype, int elementBytes) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject(METADATA_KEY);
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new EbmException("cannot write " + file + ": metadata key and value must not be null (" + e + ")");
                }
                meta.put(e.getKey(), e.getValue());
            }
        }
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (Tensor t : tensors) {
            if (t.name.equals(METADATA_KEY)) throw new EbmException("cannot write " + file + ": tensor name " + METADATA_KEY + " is reserved");
            if (!names.add(t.name)) throw new EbmException("cannot write " + file + ": duplicate tensor name '" + t.name + "'");
            ObjectNode entry = root.putObject(t.name);
            entry.put("dtype", dtype);
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape) shape.add(d);
            long end = offset + (long) t.data.length * elementBytes;
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JacksonException e) {
            throw new IllegalStateException("cannot encode a JSON tree", e); // cannot happen for a tree of strings and numbers
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    /** Writes a file's whole body into a fresh channel. */
    @FunctionalInterface
    interface BodyWriter {
        void writeTo(FileChannel channel) throws IOException;
    }

    /**
     * Writes via a temporary file in the target's directory (so the rename cannot cross file systems), forces it to
     * disk, then renames it over the target; readers see the old file or the new one, never a partial one. On any
     * failure the temporary file is removed. Package-private so tests can make the body fail halfway.
     */
    static void writeAtomically(Path target, BodyWriter body) {
        Path absolute = target.toAbsolutePath();
        Path directory = absolute.getParent();
        Path temporary = null;
        boolean moved = false;
        try {
            Files.createDirectories(directory);
            temporary = AtomicFile.createTemporary(directory, absolute.getFileName().toString());
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                body.writeTo(channel);
                channel.force(true);
            }
            Files.move(temporary, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
            syncDirectory(directory);
        } catch (IOException e) {
            throw new EbmException("cannot write " + target + ": " + describe(e), e);
        } finally {
            if (!moved && temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // Best effort: the write already failed and that is the error worth reporting.
                }
            }
        }
    }

    /** Makes the rename itself durable; not every platform can open a directory, so this is best effort. */
    private static void syncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // The data is already on disk; only the directory entry's durability is at stake.
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) channel.write(buffer);
    }

    // ---------------------------------------------------------------------------------------------------- errors

    private static EbmException invalid(Path file, String detail) {
        return new EbmException(file + ": not a valid safetensors file: " + detail);
    }

    private static EbmException invalidTensor(Path file, String tensor, String detail) {
        return invalid(file, "tensor '" + tensor + "': " + detail);
    }

    private static String describe(IOException e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + oneLine(message));
    }

    private static String oneLine(String text) {
        return text == null ? "" : text.replaceAll("\\s*\\R\\s*", " ").trim();
    }
}
