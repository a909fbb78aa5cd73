package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestFiles;
import ebm.TestNets;
import ebm.io.Npy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * `ebm eval` on checkpoints written by an independent numpy writer, against values an independent numpy
 * implementation computed with a different algorithm (full Jacobian and second-derivative tensors):
 * bench/fixtures/make_eval_fixtures.sh made the fixtures.
 */
class EvalCommandTest {
    @TempDir
    Path tmp;

    private Path fixture(String name) throws IOException {
        Path p = tmp.resolve(name);
        try (InputStream in = getClass().getResourceAsStream("/fixtures/eval/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    @ParameterizedTest
    @ValueSource(strings = {"softplus-f64", "gelu-f32", "tanh-f64", "silu-f32"})
    void matchesTheIndependentReference(String name) throws IOException {
        Path out = tmp.resolve("values.npy");
        Cli r = Cli.run("eval", "--checkpoint", fixture(name + ".safetensors").toString(), "--data",
                fixture(name + "-points.npy").toString(), "--out", out.toString());
        assertEquals(0, r.exitCode());
        Npy.Matrix got = Npy.read(out);
        Npy.Matrix want = Npy.read(fixture(name + "-expected.npy"));
        assertEquals(want.rows(), got.rows());
        assertEquals(want.cols(), got.cols());
        String[] columns = {"E", "ΔE", "∇E", "diag"};
        int d = (want.cols() - 2) / 2;
        for (int c = 0; c < 4; c++) {
            int from = c < 2 ? c : (c == 2 ? 2 : 2 + d), width = c < 2 ? 1 : d;
            double[] g = new double[got.rows() * width], w = new double[got.rows() * width];
            for (int i = 0; i < got.rows(); i++) {
                for (int j = 0; j < width; j++) {
                    g[i * width + j] = got.get(i, from + j);
                    w[i * width + j] = want.get(i, from + j);
                }
            }
            double err = TestNets.relativeError(g, w);
            int k = TestNets.worst(g, w);
            System.out.printf("%-13s %-4s rel.err %.2e  worst %+.15e vs reference %+.15e%n", name, columns[c], err, g[k], w[k]);
            assertTrue(err < 1e-11, name + " " + columns[c] + " " + err);
        }
    }

    @Test
    void pointsOfTheWrongWidthAreRejectedAndNothingIsWritten() throws IOException {
        Path points = tmp.resolve("wide.npy");
        Npy.write(points, 2, 5, new double[10]);
        Path out = tmp.resolve("values.npy");
        Cli r = Cli.run("eval", "--checkpoint", fixture("softplus-f64.safetensors").toString(), "--data", points.toString(),
                "--out", out.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("5 columns") && r.err().contains("D = 3"), r.err());
        assertEquals(1, r.err().strip().lines().count());
        assertFalse(Files.exists(out));
    }

    @Test
    void nonFinitePointsAreRejectedNamingTheRow() throws IOException {
        Path points = TestFiles.npyWithOne(tmp.resolve("nan.npy"), 3, 3, 7, Double.NaN);
        Path out = tmp.resolve("values.npy");
        Cli r = Cli.run("eval", "--checkpoint", fixture("softplus-f64.safetensors").toString(), "--data", points.toString(),
                "--out", out.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("row 2") && r.err().contains("NaN"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void aCheckpointOfAnotherFormatIsRejected() throws IOException {
        Path ckpt = tmp.resolve("other.safetensors");
        ebm.io.Safetensors.write(ckpt, java.util.Map.of("format", "pt-state-dict"),
                java.util.List.of(ebm.io.Safetensors.Tensor.of("w", new long[] {1}, new double[] {1})), "F64");
        Path out = tmp.resolve("values.npy");
        Cli r = Cli.run("eval", "--checkpoint", ckpt.toString(), "--data", fixture("softplus-f64-points.npy").toString(),
                "--out", out.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("pt-state-dict") && r.err().contains("ebm-mlp-v1"), r.err());
        assertFalse(Files.exists(out));
    }
}
