package ebm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    /** The values of the fixtures written by bench/fixtures/make_data_fixtures.py: 0.5 * k - 1, shape (3, 2). */
    static final double[] BASE = {-1, -0.5, 0, 0.5, 1, 1.5};

    static Path fixture(String name) {
        try {
            return Path.of(NpyTest.class.getResource("/fixtures/data/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new AssertionError("missing test fixture " + name, e);
        }
    }

    @Test
    void readsNumpyFloat64InEveryFormatVersionAndByteOrder() {
        for (String name : List.of("f64.npy", "f64_v2.npy", "f64_v3.npy", "f64_big_endian.npy")) {
            Npy.Matrix m = Npy.read(fixture(name));
            System.out.printf("%s: %d x %d, data %s vs expected %s%n", name, m.rows(), m.cols(),
                    java.util.Arrays.toString(m.data()), java.util.Arrays.toString(BASE));
            assertEquals(3, m.rows());
            assertEquals(2, m.cols());
            assertArrayEquals(BASE, m.data(), 0.0);
        }
    }

    @Test
    void readsFloat32WidenedExactly() {
        Npy.Matrix m = Npy.read(fixture("f32.npy"));
        double[] expected = new double[6];
        for (int i = 0; i < 6; i++) expected[i] = (float) (BASE[i] + 0.1);
        System.out.printf("f32.npy: %s vs (float)(base + 0.1) %s%n", java.util.Arrays.toString(m.data()),
                java.util.Arrays.toString(expected));
        assertEquals(3, m.rows());
        assertArrayEquals(expected, m.data(), 0.0);
    }

    @Test
    void writtenBytesEqualNumpysAndRoundTripBitExactly(@TempDir Path dir) throws Exception {
        Path ours = dir.resolve("base.npy");
        Npy.write(ours, 3, 2, BASE);
        byte[] numpy = Files.readAllBytes(fixture("f64.npy"));
        byte[] written = Files.readAllBytes(ours);
        System.out.printf("write: %d bytes, numpy's np.save: %d bytes%n", written.length, numpy.length);
        assertArrayEquals(numpy, written);

        double[] odd = new double[7 * 5];
        for (int i = 0; i < odd.length; i++) odd[i] = Math.scalb(Math.sin(i + 1), i - 17);
        odd[3] = Double.NaN;
        odd[4] = Double.NEGATIVE_INFINITY;
        odd[5] = -0.0;
        odd[6] = Double.MIN_VALUE;
        Npy.write(ours, 7, 5, odd); // overwrite the existing file
        Npy.Matrix back = Npy.read(ours);
        assertEquals(7, back.rows());
        assertEquals(5, back.cols());
        for (int i = 0; i < odd.length; i++) {
            assertEquals(Double.doubleToRawLongBits(odd[i]), Double.doubleToRawLongBits(back.data()[i]), "element " + i);
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString()).toList();
            System.out.println("files left after two writes: " + names);
            assertEquals(List.of("base.npy"), names);
        }
    }

    private static String failure(Path file) {
        EbmException e = assertThrows(EbmException.class, () -> Npy.read(file));
        System.out.println(file.getFileName() + " -> " + e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), "message names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void badFilesAreReportedWithFileAndProblem(@TempDir Path dir) {
        assertTrue(failure(dir.resolve("absent.npy")).contains("no such file"));
        assertTrue(failure(fixture("not_npy.npy")).contains("bad magic"));
        String dtype = failure(fixture("int64.npy"));
        assertTrue(dtype.contains("'<i8'") && dtype.contains("<f8, >f8, <f4, >f4"), dtype);
        assertTrue(failure(fixture("fortran.npy")).contains("Fortran"));
        assertTrue(failure(fixture("three_d.npy")).contains("3-D shape (2, 2, 2)"));
        assertTrue(failure(fixture("one_d.npy")).contains("1-D"));
        assertTrue(failure(fixture("empty_rows.npy")).contains("0 rows"));
        String truncated = failure(fixture("truncated.npy"));
        assertTrue(truncated.contains("truncated") && truncated.contains("row 3 (0-based)"), truncated);
    }
}
