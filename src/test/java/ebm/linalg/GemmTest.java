package ebm.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ebm.TestSeeds;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GemmTest {

    /** Allowed error relative to |alpha| * sum_p |a_ip b_pj| + |beta c_ij|, the scale rounding errors grow with. */
    private static final double TOLERANCE = 1e-12;

    /** Everything one call needs, with padding around the matrices so offsets and leading dimensions matter. */
    private record Case(boolean transA, boolean transB, int m, int n, int k, double alpha, double beta,
                        double[] a, int aOff, int lda, double[] b, int bOff, int ldb, double[] c, int cOff, int ldc) {

        /** A random case of shape {m, n, k} in transposition combo 0..3 (bit 1: op(A) = Aᵀ, bit 0: op(B) = Bᵀ). */
        static Case random(SplittableRandom rng, int combo, int[] shape, double alpha, double beta, boolean padded) {
            return random(rng, (combo & 2) != 0, (combo & 1) != 0, shape[0], shape[1], shape[2], alpha, beta, padded);
        }

        static Case random(SplittableRandom rng, boolean transA, boolean transB, int m, int n, int k,
                           double alpha, double beta, boolean padded) {
            int lda = (transA ? m : k) + (padded ? rng.nextInt(4) : 0);
            int ldb = (transB ? k : n) + (padded ? rng.nextInt(4) : 0);
            int ldc = n + (padded ? rng.nextInt(4) : 0);
            int aOff = padded ? rng.nextInt(6) : 0, bOff = padded ? rng.nextInt(6) : 0, cOff = padded ? rng.nextInt(6) : 0;
            double[] a = fill(rng, aOff + (long) (transA ? k : m) * lda + 3);
            double[] b = fill(rng, bOff + (long) (transB ? n : k) * ldb + 3);
            double[] c = fill(rng, cOff + (long) m * ldc + 3);
            if (beta == 0) Arrays.fill(c, cOff, cOff + m * ldc, Double.NaN); // must be ignored, not propagated
            return new Case(transA, transB, m, n, k, alpha, beta, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        }

        double[] runFast() {
            double[] out = c.clone();
            Gemm.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, out, cOff, ldc);
            return out;
        }

        double[] runNaive() {
            double[] out = c.clone();
            Gemm.naive(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, out, cOff, ldc);
            return out;
        }

        /** Per element: |alpha| * sum |a||b| + |beta c| (NaN in C counts as 0 when beta == 0). */
        double[] errorScale() {
            double[] absA = abs(a), absB = abs(b), out = new double[c.length];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    int idx = cOff + i * ldc + j;
                    out[idx] = beta == 0 ? 0 : Math.abs(beta * c[idx]);
                }
            }
            Gemm.naive(transA, transB, m, n, k, Math.abs(alpha), absA, aOff, lda, absB, bOff, ldb, 1.0, out, cOff, ldc);
            return out;
        }

        boolean inside(int idx) {
            int rel = idx - cOff;
            return rel >= 0 && rel < m * ldc && rel % ldc < n;
        }

        String describe() {
            return String.format("trans=%s%s m=%d n=%d k=%d alpha=%g beta=%g lda=%d ldb=%d ldc=%d offs=%d,%d,%d",
                    transA ? "T" : "N", transB ? "T" : "N", m, n, k, alpha, beta, lda, ldb, ldc, aOff, bOff, cOff);
        }
    }

    /** Worst relative error over C's window; fails on any error above tolerance or any write outside the window. */
    private static double check(Case cs, double[] fast, boolean print) {
        double[] ref = cs.runNaive();
        double[] scale = cs.errorScale();
        double worst = 0;
        for (int idx = 0; idx < fast.length; idx++) {
            if (!cs.inside(idx)) {
                if (Double.doubleToRawLongBits(fast[idx]) != Double.doubleToRawLongBits(cs.c[idx])) {
                    fail("wrote outside C at " + idx + ": " + cs.describe());
                }
                continue;
            }
            double err = Math.abs(fast[idx] - ref[idx]);
            double rel = scale[idx] == 0 ? err : err / scale[idx];
            if (!(rel <= TOLERANCE)) {
                fail(String.format("%s: at %d fast=%.17g naive=%.17g rel=%.3g", cs.describe(), idx, fast[idx], ref[idx], rel));
            }
            worst = Math.max(worst, rel);
        }
        if (print) {
            int mid = cs.cOff + (cs.m / 2) * cs.ldc + cs.n / 2;
            int last = cs.cOff + (cs.m - 1) * cs.ldc + cs.n - 1;
            System.out.printf("%s%n  C[0,0] fast=%.17g naive=%.17g | C[mid] fast=%.17g naive=%.17g | "
                    + "C[last] fast=%.17g naive=%.17g | worst rel err %.2e%n", cs.describe(),
                    fast[cs.cOff], ref[cs.cOff], fast[mid], ref[mid], fast[last], ref[last], worst);
        }
        return worst;
    }

    @Test
    void matchesNaiveOnRandomShapes() {
        SplittableRandom rng = new SplittableRandom(TestSeeds.fixed("gemm vs naive: shapes and operands", 2024));
        int[] sizes = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 31, 33, 47, 64, 65};
        double[] alphas = {1.0, -0.5, 2.25, 0.0};
        double[] betas = {0.0, 1.0, -1.5, 0.3};
        double worst = 0;
        int cases = 0;
        for (int t = 0; t < 600; t++) {
            boolean transA = rng.nextBoolean(), transB = rng.nextBoolean();
            int m = sizes[rng.nextInt(sizes.length)], n = sizes[rng.nextInt(sizes.length)];
            int k = sizes[rng.nextInt(sizes.length)];
            double alpha = t % 10 == 9 ? 0.0 : alphas[rng.nextInt(3)];
            double beta = betas[rng.nextInt(betas.length)];
            Case cs = Case.random(rng, transA, transB, m, n, k, alpha, beta, true);
            worst = Math.max(worst, check(cs, cs.runFast(), t < 2));
            cases++;
        }
        // Larger ones: several k blocks (KC), several row blocks (MC), uneven edges, both thread counts.
        int[][] large = {{300, 70, 600}, {37, 129, 513}, {261, 261, 257}, {5, 1100, 40}, {520, 17, 300}, {64, 64, 1500}};
        for (int[] s : large) {
            for (int combo = 0; combo < 4; combo++) {
                Case cs = Case.random(rng, combo, s, combo == 3 ? -0.75 : 1.0, combo % 2 == 0 ? 0.0 : 0.5, true);
                worst = Math.max(worst, check(cs, cs.runFast(), combo == 0 && s == large[0]));
                cases++;
            }
        }
        System.out.printf("gemm vs naive: %d cases, worst error relative to |alpha||A||B|+|beta C|: %.2e (tolerance %.0e)%n",
                cases, worst, TOLERANCE);
    }

    @Test
    void zeroDepthScalesC() {
        SplittableRandom rng = new SplittableRandom(TestSeeds.fixed("gemm zero depth: C", 7));
        for (double beta : new double[] {0.0, 1.0, -2.0}) {
            Case cs = Case.random(rng, false, true, 9, 13, 0, 1.5, beta, true);
            double[] fast = cs.runFast();
            for (int idx = 0; idx < fast.length; idx++) {
                double want = cs.inside(idx) ? (beta == 0 ? 0.0 : beta * cs.c[idx]) : cs.c[idx];
                assertEquals(want, fast[idx], 0.0, "k=0, beta=" + beta + " at " + idx);
            }
        }
        // Empty C: nothing happens, even with empty arrays.
        Gemm.gemm(false, false, 0, 5, 3, 1.0, new double[0], 0, 3, new double[15], 0, 5, 0.0, new double[0], 0, 5);
        Gemm.gemm(true, true, 4, 0, 3, 1.0, new double[12], 0, 4, new double[0], 0, 3, 0.0, new double[0], 0, 0);
    }

    @Test
    void engineShapesMatchNaive() {
        SplittableRandom rng = new SplittableRandom(TestSeeds.fixed("gemm engine shapes: operands", 11));
        int[][] shapes = {{256, 128, 2}, {512, 128, 64}, {96, 40, 3000}};
        for (int[] s : shapes) {
            for (int combo = 0; combo < 4; combo++) {
                Case cs = Case.random(rng, combo, s, 1.0, 0.0, false);
                check(cs, cs.runFast(), false);
            }
        }
    }

    @Test
    void resultsAreBitwiseIdenticalForAnyThreadCount() {
        SplittableRandom rng = new SplittableRandom(TestSeeds.fixed("gemm thread counts: operands", 99));
        // Row split (large m), column split (m below two tiles), and a thread count that splits unevenly; all
        // above the size where calls start using the pool.
        int[][] shapes = {{1030, 300, 700}, {3, 4000, 1000}, {130, 130, 6000}};
        for (int[] s : shapes) {
            for (int combo = 0; combo < 4; combo++) {
                Case cs = Case.random(rng, combo, s, 1.25, 0.5, true);
                double[][] results = new double[3][];
                Gemm.withThreads(1, () -> results[0] = cs.runFast());
                Gemm.withThreads(2, () -> results[1] = cs.runFast());
                Gemm.withThreads(3, () -> results[2] = cs.runFast());
                assertArrayEquals(results[0], results[1], "1 vs 2 threads: " + cs.describe());
                assertArrayEquals(results[0], results[2], "1 vs 3 threads: " + cs.describe());
                if (combo == 0) {
                    int mid = cs.cOff + (cs.m / 2) * cs.ldc + cs.n / 3;
                    System.out.printf("%s: 1/2/3 threads bitwise equal, e.g. C[mid] = %.17g / %.17g / %.17g%n",
                            cs.describe(), results[0][mid], results[1][mid], results[2][mid]);
                }
            }
        }
        // One large shape is also checked against naive (sampled rows would do, but this one is cheap enough).
        Case cs = Case.random(rng, false, true, 600, 200, 300, 1.0, 0.0, false);
        double[][] results = new double[2][];
        Gemm.withThreads(2, () -> results[1] = cs.runFast());
        Gemm.withThreads(1, () -> results[0] = cs.runFast());
        assertArrayEquals(results[0], results[1]);
        check(cs, results[1], true);
    }

    @Test
    void threadCountOverrideIsScopedToTheCaller() {
        int configured = Gemm.threads();
        assertTrue(configured >= 1);
        Gemm.withThreads(1, () -> {
            assertEquals(1, Gemm.threads());
            Gemm.withThreads(4, () -> assertEquals(4, Gemm.threads()));
            assertEquals(1, Gemm.threads());
        });
        assertEquals(configured, Gemm.threads());
        boolean[] threw = {false};
        try {
            Gemm.withThreads(0, () -> {});
        } catch (IllegalArgumentException e) {
            threw[0] = true;
        }
        assertTrue(threw[0]);
        assertFalse(Thread.currentThread().getName().startsWith("ebm-cpu-"));
    }

    private static double[] fill(SplittableRandom rng, long count) {
        double[] x = new double[Math.toIntExact(count)];
        for (int i = 0; i < x.length; i++) x[i] = rng.nextDouble(-1, 1);
        return x;
    }

    private static double[] abs(double[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = Math.abs(x[i]);
        return out;
    }
}
