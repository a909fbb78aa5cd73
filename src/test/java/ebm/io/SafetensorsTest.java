package ebm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir
    Path dir;

    private static double[] randomValues(Random random, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3);
        return v;
    }

    private static List<Safetensors.Tensor> sampleTensors() {
        Random random = new Random(42);
        return List.of(
                Safetensors.Tensor.of("matrix", new long[] {3, 5}, randomValues(random, 15)),
                Safetensors.Tensor.of("vector", new long[] {7}, randomValues(random, 7)),
                Safetensors.Tensor.of("cube", new long[] {2, 3, 4}, randomValues(random, 24)),
                Safetensors.Tensor.of("scalar", new long[] {}, new double[] {Math.PI}),
                Safetensors.Tensor.of("empty", new long[] {0, 3}, new double[0]));
    }

    @Test
    void roundTripF64IsExact() {
        Path file = dir.resolve("t64.safetensors");
        Map<String, String> metadata = Map.of("note", "ünïcode ✓", "k", "v");
        List<Safetensors.Tensor> written = sampleTensors();
        Safetensors.write(file, metadata, written, Safetensors.F64);
        Safetensors.Contents read = Safetensors.read(file);
        assertEquals(metadata, read.metadata());
        assertEquals(written.stream().map(Safetensors.Tensor::name).toList(), List.copyOf(read.tensors().keySet()));
        for (Safetensors.Tensor w : written) {
            Safetensors.Tensor r = read.tensors().get(w.name());
            assertEquals("F64", r.dtype());
            assertArrayEquals(w.shape(), r.shape());
            assertArrayEquals(w.data(), r.data(), 0.0);
            System.out.printf("F64 round trip %s shape=%s: %d values bit-identical%n", w.name(), Arrays.toString(r.shape()), r.data().length);
        }
    }

    @Test
    void roundTripF32RoundsToNearestFloat() {
        Path file = dir.resolve("t32.safetensors");
        List<Safetensors.Tensor> written = sampleTensors();
        Safetensors.write(file, Map.of(), written, Safetensors.F32);
        Safetensors.Contents read = Safetensors.read(file);
        assertTrue(read.metadata().isEmpty());
        for (Safetensors.Tensor w : written) {
            Safetensors.Tensor r = read.tensors().get(w.name());
            assertEquals("F32", r.dtype());
            assertArrayEquals(w.shape(), r.shape());
            double maxRelative = 0;
            for (int i = 0; i < w.data().length; i++) {
                assertEquals((double) (float) w.data()[i], r.data()[i], 0.0);
                maxRelative = Math.max(maxRelative, Math.abs(r.data()[i] - w.data()[i]) / Math.abs(w.data()[i]));
            }
            assertTrue(maxRelative <= 0x1p-24, "relative error " + maxRelative);
            System.out.printf("F32 round trip %s: equal to (float) rounding, max relative error %.2e%n", w.name(), maxRelative);
        }
    }

    @Test
    void headerIsPaddedToEightBytesAndFileSizeMatches() throws IOException {
        Path file = dir.resolve("pad.safetensors");
        for (String key : List.of("a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh")) {
            Safetensors.write(file, Map.of(key, "x"), List.of(Safetensors.Tensor.of("t", new long[] {2}, new double[] {1, 2})), "F64");
            byte[] bytes = Files.readAllBytes(file);
            long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLength % 8);
            assertEquals('{', bytes[8]);
            assertEquals(8 + headerLength + 16, bytes.length);
            System.out.printf("metadata key %-8s -> header %d bytes (multiple of 8), file %d bytes%n", key, headerLength, bytes.length);
        }
    }

    /** A file assembled byte by byte: unpadded header, buffer order unlike header order, mixed dtypes, a gap. */
    @Test
    void readsHandAssembledFile() throws IOException {
        Path file = dir.resolve("hand.safetensors");
        byte[] f32 = le32(1.5f, -2.25f, 3.0f, 0.1f); // at bytes 16..32
        byte[] f64 = le64(0.1, -7.0);                // at bytes 0..16
        byte[] buffer = new byte[16 + 16 + 4];
        System.arraycopy(f64, 0, buffer, 0, 16);
        System.arraycopy(f32, 0, buffer, 16, 16);
        // Four trailing bytes belong to no tensor: tolerated.
        String header = "{\"b\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[16,32]},"
                + "\"__metadata__\":{\"who\":\"hand\"},\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}";
        assertTrue(header.length() % 8 != 0, "header must be unpadded for this test");
        writeRaw(file, header, buffer);
        Safetensors.Contents read = Safetensors.read(file);
        assertEquals(Map.of("who", "hand"), read.metadata());
        assertEquals(List.of("b", "a"), List.copyOf(read.tensors().keySet()));
        assertArrayEquals(new double[] {1.5, -2.25, 3.0, (double) 0.1f}, read.tensors().get("b").data(), 0.0);
        assertArrayEquals(new double[] {0.1, -7.0}, read.tensors().get("a").data(), 0.0);
        System.out.println("hand-assembled file (header " + header.length() + " bytes, unpadded) read: b=F32[2,2], a=F64[2] as written");
    }

    // ------------------------------------------------------------------------------------------------ read errors

    private EbmException readError(Path file) {
        EbmException e = assertThrows(EbmException.class, () -> Safetensors.read(file));
        System.out.println("read error: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one-line message");
        assertTrue(e.getMessage().contains(file.toString()), "message names the file");
        return e;
    }

    private void assertReadError(String header, byte[] buffer, String... expectedParts) throws IOException {
        Path file = dir.resolve("bad.safetensors");
        writeRaw(file, header, buffer);
        String message = readError(file).getMessage();
        for (String part : expectedParts) assertTrue(message.contains(part), "'" + message + "' should contain '" + part + "'");
    }

    @Test
    void missingFile() {
        assertTrue(readError(dir.resolve("nope.safetensors")).getMessage().contains("no such file"));
    }

    @Test
    void fileTooShort() throws IOException {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertTrue(readError(file).getMessage().contains("too short"));
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        Path file = dir.resolve("long.safetensors");
        ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
        Files.write(file, b.array());
        assertTrue(readError(file).getMessage().contains("header length 1000 runs past the end of the file (20 bytes)"));
        // A length with the top bit set must not be taken as negative.
        Files.write(file, ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(-8).array());
        assertTrue(readError(file).getMessage().contains("header length 18446744073709551608 runs past"));
    }

    @Test
    void headerNotJson() throws IOException {
        assertReadError("this is not json", new byte[0], "header is not JSON");
        assertReadError("[1, 2, 3]", new byte[0], "not an object");
        assertReadError("{\"a\": 1} trailing", new byte[0], "header is not JSON");
    }

    @Test
    void textFileIsNotSafetensors() throws IOException {
        Path file = dir.resolve("notes.txt");
        Files.writeString(file, "hello, this is a plain text file\n");
        assertTrue(readError(file).getMessage().contains("not a valid safetensors file"));
    }

    @Test
    void missingFields() throws IOException {
        assertReadError("{\"w\":{\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8], "tensor 'w'", "missing field 'dtype'");
        assertReadError("{\"w\":{\"dtype\":\"F64\",\"data_offsets\":[0,8]}}", new byte[8], "tensor 'w'", "missing field 'shape'");
        assertReadError("{\"w\":{\"dtype\":\"F64\",\"shape\":[1]}}", new byte[8], "tensor 'w'", "missing field 'data_offsets'");
        assertReadError("{\"w\":{\"dtype\":\"F64\",\"shape\":[-1],\"data_offsets\":[0,8]}}", new byte[8], "tensor 'w'", "non-negative integers");
        assertReadError("{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[8], "tensor 'w'", "2 entries");
        assertReadError("{\"w\":[1,2]}", new byte[8], "tensor 'w'", "must be an object");
        assertReadError("{\"__metadata__\":{\"k\":3}}", new byte[0], "__metadata__ value for 'k' must be a string");
    }

    @Test
    void unsupportedDtype() throws IOException {
        assertReadError("{\"w\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}", new byte[8], "tensor 'w'", "dtype BF16",
                "not supported");
    }

    @Test
    void dataOffsetsOutOfRangeOrWrongSize() throws IOException {
        assertReadError("{\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", new byte[8], "tensor 'w'",
                "run past the 8-byte data buffer");
        assertReadError("{\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[16], "tensor 'w'",
                "span 8 bytes, but F64 [2] needs 16");
        assertReadError("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", new byte[16], "tensor 'w'",
                "span 16 bytes, but F32 [2] needs 8");
        assertReadError("{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,0]}}", new byte[16], "tensor 'w'", "begin after end");
    }

    @Test
    void overlappingTensors() throws IOException {
        assertReadError("{\"first\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"second\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[8,24]}}", new byte[24], "'second'", "overlaps", "'first'");
    }

    @Test
    void duplicateTensorName() throws IOException {
        assertReadError("{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}", new byte[16], "header lists a name twice", "'w'");
    }

    // ------------------------------------------------------------------------------------------------ writing

    @Test
    void writeRejectsBadInput() {
        Path file = dir.resolve("w.safetensors");
        Safetensors.Tensor t = Safetensors.Tensor.of("t", new long[] {1}, new double[] {1});
        assertTrue(assertThrows(EbmException.class, () -> Safetensors.write(file, Map.of(), List.of(t), "F16"))
                .getMessage().contains("dtype must be F64 or F32, got F16"));
        assertTrue(assertThrows(EbmException.class, () -> Safetensors.write(file, Map.of(), List.of(t, t), "F64"))
                .getMessage().contains("duplicate tensor name 't'"));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.Tensor.of("x", new long[] {2, 2}, new double[3]));
        assertFalse(Files.exists(file));
        assertEquals(List.of(), listDir());
        System.out.println("write refused F16, duplicate names and a shape/data mismatch; nothing written");
    }

    @Test
    void failedWriteLeavesOldFileIntactAndNoTemporary() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Safetensors.write(file, Map.of("version", "old"), sampleTensors(), "F64");
        byte[] before = Files.readAllBytes(file);

        // The body fails halfway, after part of the new content reached the temporary file.
        EbmException e = assertThrows(EbmException.class, () -> Safetensors.writeAtomically(file, channel -> {
            channel.write(ByteBuffer.wrap(new byte[] {9, 9, 9, 9}));
            throw new IOException("disk full (simulated)");
        }));
        System.out.println("simulated failure: " + e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("disk full (simulated)"));
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of("model.safetensors"), listDir());
        assertEquals("old", Safetensors.read(file).metadata().get("version"));

        // A real failure at the rename: the target is a non-empty directory.
        Path blocked = dir.resolve("blocked.safetensors");
        Files.createDirectories(blocked.resolve("inside"));
        assertThrows(EbmException.class, () -> Safetensors.write(blocked, Map.of(), sampleTensors(), "F64"));
        assertTrue(Files.isDirectory(blocked.resolve("inside")));
        assertEquals(List.of("blocked.safetensors", "model.safetensors"), listDir());

        // A successful overwrite replaces the content and also leaves no temporary behind.
        Safetensors.write(file, Map.of("version", "new"), sampleTensors(), "F32");
        assertEquals("new", Safetensors.read(file).metadata().get("version"));
        assertEquals(List.of("blocked.safetensors", "model.safetensors"), listDir());
        System.out.println("after failed writes the old file was byte-identical (" + before.length + " bytes); directory: " + listDir());
    }

    private List<String> listDir() {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    static void writeRaw(Path file, String header, byte[] buffer) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + buffer.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json).put(buffer);
        Files.write(file, b.array());
    }

    static byte[] le64(double... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) b.putDouble(v);
        return b.array();
    }

    static byte[] le32(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }
}
