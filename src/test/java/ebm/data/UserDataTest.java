package ebm.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import ebm.io.Npy;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UserDataTest {
    @TempDir
    Path dir;

    static Path fixture(String name) {
        try {
            return Path.of(UserDataTest.class.getResource("/fixtures/data/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private static String failure(Path file, int width) {
        EbmException e = assertThrows(EbmException.class, () -> UserData.load(file, width));
        System.out.println(file.getFileName() + " -> " + e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void loadsNpyAndCsvAndChecksWidth() throws Exception {
        Npy.Matrix m = UserData.load(fixture("f64.npy"), 2);
        assertEquals(3, m.rows());
        Path csv = dir.resolve("d.csv");
        Files.writeString(csv, "a,b\n1,2\n3,4\n");
        assertArrayEquals(new double[] {1, 2, 3, 4}, UserData.load(csv, 0).data(), 0.0);
        String width = failure(fixture("f64.npy"), 5);
        assertTrue(width.contains("has 2 columns, expected 5"), width);
    }

    @Test
    void nonFiniteValuesAreReportedByRowAndColumn() throws Exception {
        String nan = failure(fixture("nan_row.npy"), 0);
        assertTrue(nan.contains("row 2, column 1 (both 0-based) is NaN"), nan);
        String inf = failure(fixture("inf_row.npy"), 0);
        assertTrue(inf.contains("row 3, column 0 (both 0-based) is -Infinity"), inf);
        Path csv = dir.resolve("nan.csv");
        Files.writeString(csv, "x,y\n1,2\n3,NaN\n4,inf\n");
        String csvNan = failure(csv, 0);
        assertTrue(csvNan.contains("line 3, column 2 (both 1-based) is NaN"), csvNan);
    }

    @Test
    void otherProblemsNameTheFile() throws Exception {
        Path txt = dir.resolve("data.txt");
        Files.writeString(txt, "1,2\n");
        assertTrue(failure(txt, 0).contains("unsupported data file extension"));
        assertTrue(failure(dir.resolve("missing.npy"), 0).contains("no such file"));
        assertTrue(failure(fixture("three_d.npy"), 0).contains("3-D"));
        assertTrue(failure(fixture("int64.npy"), 0).contains("unsupported dtype '<i8'"));
        Path empty = dir.resolve("empty.csv");
        Files.writeString(empty, "\n");
        assertTrue(failure(empty, 0).contains("empty"));
    }

    static Npy.Matrix indexed(int n, int d) {
        double[] x = new double[n * d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) x[i * d + j] = i + 1000 * j + Math.sin(i * (j + 1));
        }
        return new Npy.Matrix(n, d, x);
    }

    @Test
    void splitIsADeterministicPartitionInFileOrder() {
        Npy.Matrix data = indexed(100, 2);
        int nVal = UserData.validationRows(100, 0.2);
        assertEquals(20, nVal);
        DataSplit a = UserData.split(data, "mem", 42, nVal, false);
        DataSplit b = UserData.split(data, "mem", 42, nVal, false);
        DataSplit c = UserData.split(data, "mem", 43, nVal, false);
        assertArrayEquals(a.validation().data(), b.validation().data(), 0.0);
        assertFalse(Arrays.equals(a.validation().data(), c.validation().data()));
        assertEquals(80, a.train().rows());
        assertEquals(20, a.validation().rows());
        assertTrue(a.standardization().isIdentity());
        Set<Double> firstColumn = new HashSet<>();
        double last = -1;
        for (int i = 0; i < 80; i++) {
            assertTrue(a.train().get(i, 0) > last, "train keeps file order");
            last = a.train().get(i, 0);
            firstColumn.add(last);
        }
        for (int i = 0; i < 20; i++) firstColumn.add(a.validation().get(i, 0));
        assertEquals(100, firstColumn.size(), "every row in exactly one split");
        int[] p = UserData.permutation(42, 1000);
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 1000; i++) assertEquals(i, sorted[i]);
        System.out.println("split seed 42: validation rows start " + Arrays.toString(
                Arrays.copyOf(a.validation().data(), 6)) + "; permutation of 1000 is a permutation");
        EbmException e = assertThrows(EbmException.class, () -> UserData.split(data, "mem.npy", 1, 100, false));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains("mem.npy") && e.getMessage().contains("100 validation rows"));
    }

    @Test
    void standardisationUsesTrainStatisticsOnly() {
        Npy.Matrix data = indexed(50, 3);
        DataSplit s = UserData.split(data, "mem", 1, 10, true);
        Npy.Matrix rawTrain = UserData.split(data, "mem", 1, 10, false).train();
        double[] mean = Moments.mean(rawTrain.data(), 40, 3);
        double[] cov = Moments.covariance(rawTrain.data(), 40, 3);
        double[] zMean = Moments.mean(s.train().data(), 40, 3);
        double[] zCov = Moments.covariance(s.train().data(), 40, 3);
        System.out.println("standardised train mean " + Arrays.toString(zMean) + ", stds "
                + Arrays.toString(s.standardization().std()));
        for (int j = 0; j < 3; j++) {
            assertEquals(mean[j], s.standardization().mean()[j], 1e-12);
            assertEquals(Math.sqrt(cov[j * 3 + j]), s.standardization().std()[j], 1e-12);
            assertEquals(0, zMean[j], 1e-12);
            assertEquals(1, zCov[j * 3 + j], 1e-12);
        }
        Npy.Matrix rawVal = UserData.split(data, "mem", 1, 10, false).validation();
        for (int i = 0; i < 10; i++) {
            for (int j = 0; j < 3; j++) {
                assertEquals((rawVal.get(i, j) - mean[j]) / Math.sqrt(cov[j * 3 + j]), s.validation().get(i, j), 1e-12);
            }
        }
        double[] constant = indexed(20, 3).data();
        for (int i = 0; i < 20; i++) constant[i * 3 + 2] = 7.5;
        EbmException e = assertThrows(EbmException.class,
                () -> UserData.split(new Npy.Matrix(20, 3, constant), "const.csv", 1, 5, true));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains("const.csv") && e.getMessage().contains("column 2 (0-based) is constant"));
    }
}
