package ebm.backend.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.backend.cuda.parity.BlasParityChecks;
import ebm.backend.cuda.parity.ParityResult;
import ebm.backend.cuda.runtime.Blas.GemmPrecision;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * HostBlas against a plain fp64 triple loop over the same fp32 inputs (pre-rounded to TF32 / BF16 where the
 * precision says so), through native memory laid out as cuBLAS sees it: column-major, leading dimensions larger
 * than needed with NaN poison in the padding (which must come back untouched, bit for bit), NaN in C when β = 0.
 *
 * <p>Error measure: |host − reference| / (|α| Σₚ|a·b| + |β·c|). HostBlas sums in fp64 and rounds once to fp32, so
 * the bound is fp32's half ulp, 2^-24 ≈ 5.96e-8, plus fp64 noise: the tolerance is 6.0e-8.
 */
class HostBlasTest {
    private static final double TOLERANCE = 6.0e-8;
    private static final int POISON = 0x7FC0_DEAD; // a quiet NaN with a recognisable payload

    /** A column-major operand (or a batch of them) in native memory plus its initial contents as fp32. */
    private static final class Operand {
        final MemorySegment memory;
        final float[] initial;
        final int rows, cols, ld;
        final long stride;

        /** batches matrices rows x cols (leading dimension ld) stride elements apart; everything else is poison. */
        Operand(Arena arena, SplittableRandom rng, int rows, int cols, int ld, long stride, int batches, boolean nanValues) {
            this.rows = rows;
            this.cols = cols;
            this.ld = ld;
            this.stride = stride;
            int total = (int) ((batches - 1) * stride + (long) ld * cols + 5);
            initial = new float[total];
            java.util.Arrays.fill(initial, Float.intBitsToFloat(POISON));
            for (int batch = 0; batch < batches; batch++) {
                for (int j = 0; j < cols; j++) {
                    for (int i = 0; i < rows; i++) {
                        initial[index(batch, i, j)] = nanValues ? Float.NaN : (float) (rng.nextDouble() * 2 - 1);
                    }
                }
            }
            memory = arena.allocate(4L * total, 256);
            MemorySegment.copy(initial, 0, memory, ValueLayout.JAVA_FLOAT, 0, total);
        }

        int index(int batch, int i, int j) {
            return (int) (batch * stride + i + (long) j * ld);
        }

        float get(int batch, int i, int j) {
            return initial[index(batch, i, j)];
        }

        long address() {
            return memory.address();
        }

        float[] now() {
            return memory.toArray(ValueLayout.JAVA_FLOAT);
        }

        /** Whether element `index` of a single (unbatched) operand lies inside the matrix rather than its padding. */
        boolean used(int index) {
            return index % ld < rows && index / ld < cols;
        }
    }

    /** Worst error of one or more calls, with the pair it came from. */
    private static final class Worst {
        double error = 0;
        String pair = "(nothing compared)";
        int compared = 0;

        void add(String where, double got, double want, double scale) {
            double e = Math.abs(got - want) / Math.max(scale, 1e-30);
            if (Double.isNaN(got) || Double.isNaN(want)) e = Double.POSITIVE_INFINITY;
            if (compared == 0 || e > error) {
                error = e;
                pair = String.format("%s: host %.9g, reference %.9g", where, got, want);
            }
            compared++;
        }

        void report(String test, double tolerance) {
            System.out.printf("%s: %d elements, worst |Δ|/scale = %.3e (tolerance %.1e) at %s%n", test, compared, error,
                    tolerance, pair);
            assertTrue(compared > 0, test + ": nothing compared");
            assertTrue(error <= tolerance, test + ": worst error " + error + " at " + pair);
        }
    }

    /**
     * Runs one (batched) call and compares every element of every batch with the triple loop over `round`ed
     * operands; checks that A and B were not written and C's padding kept its poison bits.
     */
    private static void check(Blas blas, SplittableRandom rng, boolean transA, boolean transB, int m, int n, int k,
                              float alpha, float beta, int pad, int batches, long extraStride, Worst worst) {
        try (Arena arena = Arena.ofConfined()) {
            int rowsA = transA ? k : m, colsA = transA ? m : k, rowsB = transB ? n : k, colsB = transB ? k : n;
            int lda = Math.max(1, rowsA) + pad, ldb = Math.max(1, rowsB) + pad, ldc = Math.max(1, m) + pad;
            long strideA = (long) lda * colsA + extraStride, strideB = (long) ldb * colsB + extraStride;
            long strideC = (long) ldc * n + extraStride;
            Operand a = new Operand(arena, rng, rowsA, colsA, lda, strideA, batches, false);
            Operand b = new Operand(arena, rng, rowsB, colsB, ldb, strideB, batches, false);
            Operand c = new Operand(arena, rng, m, n, ldc, strideC, batches, beta == 0);
            if (batches == 1) {
                blas.gemm(transA, transB, m, n, k, alpha, a.address(), lda, b.address(), ldb, beta, c.address(), ldc);
            } else {
                blas.gemmStridedBatched(transA, transB, m, n, k, alpha, a.address(), lda, strideA, b.address(), ldb,
                        strideB, beta, c.address(), ldc, strideC, batches);
            }
            float[] got = c.now();
            IntUnaryOperator round = switch (blas.precision()) {
                case FP32 -> x -> x;
                case TF32 -> x -> Float.floatToRawIntBits(HostBlas.roundToTf32(Float.intBitsToFloat(x)));
                case BF16 -> x -> Float.floatToRawIntBits(HostBlas.roundToBf16(Float.intBitsToFloat(x)));
            };
            String shape = (transA ? "T" : "N") + (transB ? "T" : "N") + " " + m + "x" + n + "x" + k;
            boolean[] covered = new boolean[got.length];
            for (int batch = 0; batch < batches; batch++) {
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = 0, abs = 0;
                        for (int p = 0; p < k; p++) {
                            float av = transA ? a.get(batch, p, i) : a.get(batch, i, p);
                            float bv = transB ? b.get(batch, j, p) : b.get(batch, p, j);
                            double prod = (double) r(round, av) * r(round, bv);
                            sum += prod;
                            abs += Math.abs(prod);
                        }
                        int idx = c.index(batch, i, j);
                        double old = beta == 0 ? 0 : (double) beta * c.initial[idx];
                        double want = alpha * sum + old;
                        worst.add(shape + " batch " + batch + " C(" + i + "," + j + ")", got[idx], want,
                                Math.abs(alpha) * abs + Math.abs(old));
                        covered[idx] = true;
                    }
                }
            }
            for (int idx = 0; idx < got.length; idx++) {
                if (!covered[idx]) {
                    assertEquals(Float.floatToRawIntBits(c.initial[idx]), Float.floatToRawIntBits(got[idx]),
                            shape + ": C element " + idx + " outside the result was written");
                }
            }
            assertEquals(0, java.util.Arrays.compare(a.initial, a.now()), shape + ": A was written");
            assertEquals(0, java.util.Arrays.compare(b.initial, b.now()), shape + ": B was written");
        }
    }

    private static float r(IntUnaryOperator round, float x) {
        return Float.intBitsToFloat(round.applyAsInt(Float.floatToRawIntBits(x)));
    }

    private static final int[][] SHAPES = {
        {1, 1, 1}, {1, 5, 3}, {7, 1, 9}, {5, 3, 1}, {13, 17, 9}, {33, 20, 65}, {64, 72, 80}, {100, 37, 130},
    };

    @Test
    void everyTransposeLeadingDimensionAndBetaMatchesTheTripleLoop() {
        SplittableRandom rng = new SplittableRandom(TestSeeds.fixed("host GEMM operands, every transpose and beta", 11));
        try (Blas blas = new HostBlas(GemmPrecision.FP32)) {
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    Worst worst = new Worst();
                    for (int[] s : SHAPES) {
                        for (float beta : new float[] {0f, 0.5f}) {
                            check(blas, rng, transA, transB, s[0], s[1], s[2], -1.25f, beta, 3, 1, 0, worst);
                        }
                    }
                    worst.report("FP32 " + (transA ? "T" : "N") + (transB ? "T" : "N") + ", α=-1.25, β∈{0 over NaN, 0.5}, ld +3", TOLERANCE);
                }
            }
        }
    }

    @Test
    void stridedBatchesWithGapsBetweenMatrices() {
        SplittableRandom rng = new SplittableRandom(TestSeeds.fixed("host GEMM operands, strided batches", 12));
        try (Blas blas = new HostBlas(GemmPrecision.FP32)) {
            Worst worst = new Worst();
            check(blas, rng, false, true, 13, 9, 21, 0.75f, 0.5f, 2, 3, 17, worst);
            check(blas, rng, true, false, 40, 33, 24, 2f, 0f, 0, 3, 5, worst);
            worst.report("FP32 strided batched, 3 batches, strides past each matrix", TOLERANCE);
        }
    }

    @Test
    void broadcastOperandWithStrideZero() {
        SplittableRandom rng = new SplittableRandom(TestSeeds.fixed("host GEMM operands, stride-0 broadcast", 13));
        try (Blas blas = new HostBlas(GemmPrecision.FP32); Arena arena = Arena.ofConfined()) {
            int m = 6, n = 5, k = 4;
            Operand a = new Operand(arena, rng, m, k, m, 0, 1, false);
            Operand b = new Operand(arena, rng, k, n, k, k * n, 3, false);
            Operand c = new Operand(arena, rng, m, n, m, m * n, 3, true);
            blas.gemmStridedBatched(false, false, m, n, k, 1f, a.address(), m, 0, b.address(), k, k * n, 0f,
                    c.address(), m, m * n, 3);
            float[] got = c.now();
            Worst worst = new Worst();
            for (int batch = 0; batch < 3; batch++) {
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = 0, abs = 0;
                        for (int p = 0; p < k; p++) {
                            double prod = (double) a.get(0, i, p) * b.get(batch, p, j);
                            sum += prod;
                            abs += Math.abs(prod);
                        }
                        worst.add("batch " + batch + " C(" + i + "," + j + ")", got[c.index(batch, i, j)], sum, abs);
                    }
                }
            }
            worst.report("FP32 strided batched with strideA = 0 (one A for every batch)", TOLERANCE);
        }
    }

    @Test
    void zeroDepthScalesCByBetaAndReadsNeitherOperand() {
        SplittableRandom rng = new SplittableRandom(TestSeeds.fixed("host GEMM C, zero depth", 14));
        try (Blas blas = new HostBlas(GemmPrecision.FP32); Arena arena = Arena.ofConfined()) {
            int m = 7, n = 3, ldc = 9;
            Operand c = new Operand(arena, rng, m, n, ldc, 0, 1, false);
            // k = 0: A and B are not read, so even null pointers are fine (as in cuBLAS).
            blas.gemm(false, false, m, n, 0, 2f, 0L, m, 0L, 1, 0.5f, c.address(), ldc);
            float[] got = c.now();
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < m; i++) assertEquals(0.5f * c.get(0, i, j), got[c.index(0, i, j)], 0f);
            }
            System.out.printf("k=0, β=0.5: C(0,0) %.7g -> %.7g (exactly half)%n", c.get(0, 0, 0), got[0]);

            Operand nan = new Operand(arena, rng, m, n, ldc, 0, 1, true);
            blas.gemm(true, true, m, n, 0, 2f, 0L, 1, 0L, n, 0f, nan.address(), ldc);
            float[] zeros = nan.now();
            for (int idx = 0; idx < zeros.length; idx++) {
                int want = nan.used(idx) ? 0 : POISON; // +0.0 where C was NaN; the padding keeps its poison
                assertEquals(want, Float.floatToRawIntBits(zeros[idx]), "element " + idx);
            }
            System.out.printf("k=0, β=0 over NaN: C(0,0) %s -> %s, padding C(7,0) keeps %08x%n", nan.get(0, 0, 0),
                    zeros[0], Float.floatToRawIntBits(zeros[7]));
        }
    }

    @Test
    void emptyResultIsANoOp() {
        SplittableRandom rng = new SplittableRandom(15);
        try (Blas blas = new HostBlas(GemmPrecision.FP32); Arena arena = Arena.ofConfined()) {
            Operand c = new Operand(arena, rng, 4, 4, 4, 0, 1, true);
            blas.gemm(false, false, 0, 4, 3, 1f, 0L, 1, 0L, 3, 0f, c.address(), 4);
            blas.gemm(false, false, 4, 0, 3, 1f, 0L, 4, 0L, 3, 0f, c.address(), 4);
            blas.gemmStridedBatched(false, false, 4, 4, 3, 1f, 0L, 4, 0, 0L, 3, 0, 0f, c.address(), 4, 0, 0);
            assertEquals(0, java.util.Arrays.compare(c.initial, c.now()), "C changed");
            System.out.println("m=0, n=0 and batchCount=0: C (all NaN) untouched");
        }
    }

    @Test
    void badArgumentsAreRefusedNamingTheArgument() {
        try (Blas blas = new HostBlas(GemmPrecision.FP32)) {
            assertNamed("lda", () -> blas.gemm(false, false, 5, 4, 3, 1f, 64, 4, 64, 3, 0f, 64, 5));
            assertNamed("lda", () -> blas.gemm(true, false, 5, 4, 3, 1f, 64, 2, 64, 3, 0f, 64, 5));
            assertNamed("ldb", () -> blas.gemm(false, false, 5, 4, 3, 1f, 64, 5, 64, 2, 0f, 64, 5));
            assertNamed("ldb", () -> blas.gemm(false, true, 5, 4, 3, 1f, 64, 5, 64, 3, 0f, 64, 5));
            assertNamed("ldc", () -> blas.gemm(false, false, 5, 4, 3, 1f, 64, 5, 64, 3, 0f, 64, 4));
            assertNamed("ldc", () -> blas.gemm(false, false, 0, 4, 3, 1f, 64, 1, 64, 3, 0f, 64, 0)); // max(1, m) even when m = 0
            assertNamed("m=", () -> blas.gemm(false, false, -1, 4, 3, 1f, 64, 5, 64, 3, 0f, 64, 5));
            assertNamed("k=", () -> blas.gemm(false, false, 5, 4, -3, 1f, 64, 5, 64, 3, 0f, 64, 5));
            assertNamed("batchCount", () -> blas.gemmStridedBatched(false, false, 5, 4, 3, 1f, 64, 5, 15, 64, 3, 12,
                    0f, 64, 5, 20, -1));
        }
    }

    /**
     * dgemm at every precision: BlasParityChecks' dgemm rows (fp64 inputs using all 53 bits, padding, NaN in C at
     * β = 0) pass at 1e-12, the same as Gemm on the same values (HostBlas adds no rounding), and the FLOPs are
     * counted; its arguments are refused as gemm's, and an operand not 8-byte aligned is refused.
     */
    @Test
    void dgemmIsFp64AtEveryPrecision() {
        for (GemmPrecision p : GemmPrecision.values()) {
            try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip(); Blas blas = new HostBlas(p)) {
                for (ParityResult r : new BlasParityChecks(blas, launcher, 5).all()) {
                    if (!r.op().startsWith("dgemm")) continue;
                    System.out.println(p + ": " + r.summary());
                    assertTrue(r.passed(), r.summary());
                    assertTrue(r.worstError() < 1e-15, r.summary());
                }
                long before = ebm.linalg.Gemm.flops();
                DeviceBuffer a = launcher.upload(new double[] {1, 2, 3, 4, 5, 6}), c = launcher.upload(new double[4]);
                blas.dgemm(false, true, 2, 2, 3, 0.5, a.address(), 2, a.address(), 2, 0.0, c.address(), 2); // A Aᵀ, A 2x3
                assertEquals(2L * 2 * 2 * 3, ebm.linalg.Gemm.flops() - before);
                double[] got = launcher.readDoubles(c, 4);
                assertEquals(java.util.List.of(0.5 * 35, 0.5 * 44, 0.5 * 44, 0.5 * 56),
                        java.util.List.of(got[0], got[1], got[2], got[3]));
            }
        }
        try (Blas blas = new HostBlas(GemmPrecision.FP32)) {
            assertNamed("dgemm: lda", () -> blas.dgemm(true, false, 5, 4, 3, 1.0, 64, 2, 64, 3, 0.0, 64, 5));
            assertNamed("dgemm: ldc", () -> blas.dgemm(false, false, 5, 4, 3, 1.0, 64, 5, 64, 3, 0.0, 64, 4));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> blas.dgemm(false, false, 1, 1, 1, 1.0, 68, 1, 64, 1, 0.0, 64, 1));
            assertTrue(e.getMessage().contains("A = 0x44 is not 8-byte aligned"), e.getMessage());
        }
    }

    private static void assertNamed(String argument, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        System.out.println("refused: " + e.getMessage());
        assertTrue(e.getMessage().contains(argument), e.getMessage());
        assertTrue(e.getMessage().contains("CUBLAS_STATUS_INVALID_VALUE"), e.getMessage());
    }

    // ---- TF32 and BF16 ------------------------------------------------------------------------------------------

    @Test
    void tf32RoundsToNearestEvenOnTheLow13Bits() {
        // [input bits, expected bits]: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 and goes to the even 1;
        // 1 + 3·2^-11 is halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even) and goes up.
        int[][] cases = {
            {0x3F80_1000, 0x3F80_0000}, // 1 + 2^-11: tie, to even (down)
            {0x3F80_3000, 0x3F80_4000}, // 1 + 3·2^-11: tie, to even (up)
            {0x3F80_1001, 0x3F80_2000}, // just past the tie: up
            {0x3F80_0FFF, 0x3F80_0000}, // just below the tie: down
            {0xBF80_3000, 0xBF80_4000}, // negative: the same on the magnitude
            {0x4049_0FDB, 0x4049_0000}, // π
            {0x7F7F_FFFF, 0x7F80_0000}, // the largest float is past the largest TF32 plus half an ulp: +∞
            {0x7F80_0000, 0x7F80_0000}, // +∞
            {0x0000_1000, 0x0000_0000}, // subnormal tie: to even (zero)
            {0x0000_3000, 0x0000_4000}, // subnormal tie: to even (up)
            {0x007F_FFFF, 0x0080_0000}, // the largest subnormal rounds up into the smallest normal
        };
        checkRounding("TF32", HostBlas::roundToTf32, cases);
        assertTrue(Float.isNaN(HostBlas.roundToTf32(Float.intBitsToFloat(0x7F80_0001))), "a NaN with a low payload stays NaN");
    }

    @Test
    void bf16RoundsToNearestEvenOnTheLow16Bits() {
        int[][] cases = {
            {0x3F80_8000, 0x3F80_0000}, // 1 + 2^-8: tie, to even (down)
            {0x3F81_8000, 0x3F82_0000}, // 1 + 3·2^-8: tie, to even (up)
            {0x3F80_8001, 0x3F81_0000}, // past the tie
            {0x4049_0FDB, 0x4049_0000}, // π = 3.140625 in bf16
            {0xC049_8000, 0xC04A_0000}, // negative tie with an odd kept lsb
            {0x7F7F_FFFF, 0x7F80_0000}, // overflow to +∞
            {0x0000_8000, 0x0000_0000}, // subnormal tie: to even
        };
        checkRounding("BF16", HostBlas::roundToBf16, cases);
        assertTrue(Float.isNaN(HostBlas.roundToBf16(Float.intBitsToFloat(0xFF80_0001))), "a NaN with a low payload stays NaN");
    }

    private static void checkRounding(String name, java.util.function.Function<Float, Float> round, int[][] cases) {
        for (int[] c : cases) {
            int got = Float.floatToRawIntBits(round.apply(Float.intBitsToFloat(c[0])));
            System.out.printf("%s(%08x = %.9g) = %08x (%.9g), want %08x%n", name, c[0], Float.intBitsToFloat(c[0]), got,
                    Float.intBitsToFloat(got), c[1]);
            assertEquals(c[1], got, String.format("%s(%08x)", name, c[0]));
        }
    }

    @Test
    void tf32AndBf16GemmsMultiplyRoundedOperands() {
        for (GemmPrecision precision : new GemmPrecision[] {GemmPrecision.TF32, GemmPrecision.BF16}) {
            SplittableRandom rng = new SplittableRandom(TestSeeds.fixed(precision + " GEMM operands", 16));
            try (Blas blas = new HostBlas(precision)) {
                Worst worst = new Worst();
                for (int[] s : new int[][] {{13, 17, 9}, {64, 72, 80}, {3, 130, 257}}) {
                    check(blas, rng, false, false, s[0], s[1], s[2], 1.5f, 0.5f, 1, 1, 0, worst);
                    check(blas, rng, true, true, s[0], s[1], s[2], 1f, 0f, 2, 1, 0, worst);
                }
                worst.report(precision + " against the triple loop over " + precision + "-rounded operands", TOLERANCE);
            }
            // And the rounding really happens: against unrounded operands the error is that of the format.
            SplittableRandom same = new SplittableRandom(16);
            try (Blas blas = new HostBlas(precision); Blas exact = new HostBlas(GemmPrecision.FP32)) {
                double moved = distance(blas, exact, same, 64, 72, 80);
                double unit = precision == GemmPrecision.TF32 ? 0x1p-11 : 0x1p-8;
                System.out.printf("%s vs FP32 on the same inputs: ‖Δ‖/‖C‖ = %.3e (the format's half ulp is %.1e)%n",
                        precision, moved, unit);
                assertTrue(moved > unit / 20 && moved < unit * 4, precision + " moved the result by " + moved);
            }
        }
    }

    /** ‖C_blas − C_exact‖/‖C_exact‖ for one random NN product (β = 0). */
    private static double distance(Blas blas, Blas exact, SplittableRandom rng, int m, int n, int k) {
        try (Arena arena = Arena.ofConfined()) {
            Operand a = new Operand(arena, rng, m, k, m, 0, 1, false);
            Operand b = new Operand(arena, rng, k, n, k, 0, 1, false);
            MemorySegment c1 = arena.allocate(4L * m * n, 256), c2 = arena.allocate(4L * m * n, 256);
            blas.gemm(false, false, m, n, k, 1f, a.address(), m, b.address(), k, 0f, c1.address(), m);
            exact.gemm(false, false, m, n, k, 1f, a.address(), m, b.address(), k, 0f, c2.address(), m);
            double diff = 0, norm = 0;
            for (long i = 0; i < (long) m * n; i++) {
                double x = c1.getAtIndex(ValueLayout.JAVA_FLOAT, i), y = c2.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                diff += (x - y) * (x - y);
                norm += y * y;
            }
            return Math.sqrt(diff / norm);
        }
    }

    /** How long a training-step-sized call takes (printed, not asserted): m, n, k = 256, 1024, 256. */
    @Test
    void printsTheTimeOfATypicalShape() {
        SplittableRandom rng = new SplittableRandom(17);
        int m = 256, n = 1024, k = 256;
        try (Blas blas = new HostBlas(GemmPrecision.FP32); Arena arena = Arena.ofConfined()) {
            Operand a = new Operand(arena, rng, k, m, k, 0, 1, false); // stored k x m, used transposed
            Operand b = new Operand(arena, rng, k, n, k, 0, 1, false);
            MemorySegment c = arena.allocate(4L * m * n, 256);
            for (boolean transA : new boolean[] {false, true}) {
                int lda = transA ? k : m;
                double[] ms = new double[7];
                for (int rep = 0; rep < ms.length; rep++) {
                    long t0 = System.nanoTime();
                    blas.gemm(transA, false, m, n, k, 1f, a.address(), lda, b.address(), k, 0f, c.address(), m);
                    ms[rep] = (System.nanoTime() - t0) / 1e6;
                }
                java.util.Arrays.sort(ms);
                System.out.printf("HostBlas %s %dx%dx%d: %.2f ms per call (median of %d, %.1f GFLOP/s)%n",
                        transA ? "TN" : "NN", m, n, k, ms[ms.length / 2], ms.length, 2.0 * m * n * k / ms[ms.length / 2] / 1e6);
            }
        }
    }
}
